# callees.awk -- inclusive share of functions and of their direct callees,
# from `perf script` output (call chains recorded with perf record -g).
#
#   perf script -i perf.data | awk -v fns="insert_row,collect_objects" -f callees.awk
#
# For every function named in fns (comma-separated): the share of all
# samples whose stack contains it (outermost occurrence), then the share of
# each direct callee under it ("(self)" when it was the leaf).  Static
# functions of a stripped binary appear as "[unknown]".
#
# -v under=FUNC   count only samples whose stack contains FUNC (percentages
#                 stay relative to all samples)
# -v tx=N         also print microseconds per transaction, N transactions
#                 having run while perf recorded (sample periods are summed)
# -v mincallee=P  hide callees below P percent (default 0.3)
function flush(   i, k, f) {
	if (n == 0) return
	total++
	totalp += period
	if (under != "") {
		for (i = 1; i <= n; i++) if (frame[i] == under) break
		if (i > n) { n = 0; return }
	}
	for (k = 1; k <= nf; k++) {
		f = want[k]
		for (i = n; i >= 1; i--) if (frame[i] == f) break
		if (i < 1) continue
		inc[f]++
		incp[f] += period
		c = (i == 1) ? "(self)" : frame[i-1]
		sub_[f, c]++
		subp[f, c] += period
	}
	n = 0
}
function us(p) { return (tx > 0) ? sprintf("%9.1f us/tx", p / 1000 / tx) : "" }
BEGIN {
	nf = split(fns, want, ",")
	if (mincallee == "") mincallee = 0.3
}
/^[^ \t]/ {
	flush()
	# "comm pid time: period event:"
	period = 1
	for (j = 2; j <= NF; j++) if ($j ~ /^[0-9]+$/ && $(j+1) ~ /:/ && $(j-1) ~ /:$/) { period = $j; break }
	next
}
/^[ \t]*$/ { flush(); next }
{
	# "\t addr symbol+0xoff (dso)"
	s = $2
	sub(/\+0x[0-9a-f]+$/, "", s)
	frame[++n] = s
}
END {
	flush()
	printf "samples: %d (%.0f ms of CPU)\n", total, totalp / 1e6
	for (k = 1; k <= nf; k++) {
		f = want[k]
		printf "%-40s %6.2f%% %s\n", f, 100 * inc[f] / (total ? total : 1), us(incp[f])
		cmd = "sort -t'|' -k2 -rn | cut -d'|' -f1"
		for (key in sub_) {
			split(key, p, SUBSEP)
			if (p[1] == f && 100 * sub_[key] / total >= mincallee)
				printf "    %-36s %6.2f%% %s|%d\n", p[2], 100 * sub_[key] / total, us(subp[key]), sub_[key] | cmd
		}
		close(cmd)
	}
}
