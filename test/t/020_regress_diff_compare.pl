# The comparison of the differential test removes migguard's WARNING
# blocks and the listed expected differences, and nothing else.
#
# Proves, on small outputs made here (no server), that
# scripts/regress-diff-compare.py passes a migguard output that differs from
# the plain one only by migguard's WARNING blocks (also when a HINT ends in
# the same SQL as the next statement psql echoes, and for consecutive
# statements that each get one), or by a row an expected-differences entry
# explains (with psql's padding and row count changing along); and that it
# fails a changed error, a changed row right after a WARNING, a PostgreSQL
# WARNING, an unexplained extra row, and a crash in the server log; and
# that a test whose plain runs differ passes against either one.
use strict;
use warnings;
use FindBin;
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use Test::More;

my $compare = "$FindBin::Bin/../../scripts/regress-diff-compare.py";
my $tmp = tempdir(CLEANUP => 1);

sub write_file
{
	my ($path, $text) = @_;
	open(my $fh, '>', $path) or die "cannot write $path: $!";
	print $fh $text;
	close($fh);
}

my $expected = "$tmp/expected-differences";
write_file($expected, <<'EOF');
# for the test
test: t
modes: warn
match: ^\+ migguard_x +\| on$
reason: a row of migguard's own in a listing
EOF

# run_case NAME, PLAIN, RUN [, PLAIN2, LOG]: exit status and output of the
# comparison of one test "t" in mode warn.
my $case = 0;
sub run_case
{
	my ($plain, $run, $plain2, $log) = @_;
	my $dir = "$tmp/case" . ++$case;
	my @plain_args;
	my $i = 0;
	for my $p ($plain, defined $plain2 ? $plain2 : ())
	{
		$i++;
		make_path("$dir/plain$i/results");
		write_file("$dir/plain$i/results/t.out", $p);
		push @plain_args, '--plain', "$dir/plain$i";
	}
	make_path("$dir/run/results", "$dir/run/log");
	write_file("$dir/run/results/t.out", $run);
	write_file("$dir/run/log/postmaster.log", $log // "LOG:  database system is ready\n");
	write_file("$dir/schedule", "test: t\nignore: r\ntest: r\n");
	my $out = `python3 '$compare' --schedule '$dir/schedule' --expected-differences '$expected' --mode warn @plain_args '$dir/run' 2>&1`;
	return ($? >> 8, $out);
}

my $plain = <<'EOF';
CREATE TABLE a (x int);
ALTER TABLE a RENAME TO b;
ALTER TABLE b SET SCHEMA s;
SELECT 1 AS one;
 one 
-----
   1
(1 row)

DROP TABLE b;
EOF

my ($rc, $out) = run_case($plain, $plain);
is($rc, 0, 'identical outputs pass');
like($out, qr/^REGRESSDIFF warn 1 0$/m, 'one test counted, passed; the ignored test is not compared');

# The HINT of the first WARNING ends in the statement psql echoes next.
my @messages = (
	[ 'WARNING:  RENAME of "public.a" would break deployed code that still uses the old name',
	  'DETAIL:  Rule rename_table: Application code already deployed refers to the relation by its old name.',
	  'HINT:  Rename and leave a view under the old name:', 'ALTER TABLE a RENAME TO b;' ],
	[ 'WARNING:  SET SCHEMA of "public.b" would break deployed code that still uses the old name',
	  'DETAIL:  Rule rename_table: Application code already deployed refers to the relation by its old name.',
	  'HINT:  Move the table and leave a view under the old name:', 'ALTER TABLE b SET SCHEMA s;' ],
	[ 'WARNING:  DROP TABLE would delete "s.b" (8.0 kB), which is not empty',
	  'DETAIL:  Rule drop_table: The table holds rows.',
	  'HINT:  Make sure no deployed code uses the table:', 'ALTER TABLE s.b RENAME TO b_to_drop;' ]);
my $warned = join('', map { "$_\n" } (
	'CREATE TABLE a (x int);', 'ALTER TABLE a RENAME TO b;', @{ $messages[0] },
	'ALTER TABLE b SET SCHEMA s;', @{ $messages[1] },
	'SELECT 1 AS one;', ' one ', '-----', '   1', '(1 row)', '',
	'DROP TABLE b;', @{ $messages[2] }));

# The server log of those messages, as PostgreSQL writes it with
# pg_regress's log_line_prefix: continuation lines start with a tab.
my $log = '';
for my $msg (@messages)
{
	for my $line (@$msg)
	{
		$log .= $line =~ /^(WARNING|DETAIL|HINT):  /
		  ? "2026-01-01 00:00:00.000 UTC client backend[7] pg_regress/t $line\n"
		  : "\t$line\n";
	}
}

($rc, $out) = run_case($plain, $warned, undef, $log);
is($rc, 0, 'migguard WARNING blocks are removed, HINTs ending in echoed SQL included')
  or diag($out);
like($out, qr/3 as in the server log, 0 by alignment/, 'each block as the server logged it');
($rc, $out) = run_case($plain, $warned);
is($rc, 0, 'without the server log, the alignment with the plain output finds the same blocks')
  or diag($out);

my $consecutive_plain = "DROP TABLE t1;\nDROP TABLE t2;\nDROP TABLE t3;\n";
my $consecutive_run = '';
for my $t (qw(t1 t2 t3))
{
	$consecutive_run .= "DROP TABLE $t;\nWARNING:  DROP TABLE would delete \"public.$t\"\n"
	  . "DETAIL:  Rule drop_table: The table holds rows.\nHINT:  Rename it first:\n"
	  . "ALTER TABLE public.$t RENAME TO ${t}_to_drop;\n";
}
($rc, $out) = run_case($consecutive_plain, $consecutive_run);
is($rc, 0, 'consecutive statements with a WARNING each pass') or diag($out);

(my $changed_error = $plain) =~ s/^DROP TABLE b;$/DROP TABLE b;\nERROR:  could not convert row type/m;
($rc, $out) = run_case($plain, $changed_error);
is($rc, 1, 'an error only the migguard run raises fails');
like($out, qr/^    \+ERROR:  could not convert row type$/m, 'and the unexplained line is printed');
like($out, qr/^REGRESSDIFF warn 0 1$/m, 'counted as one failed test');

(my $changed_row = $warned) =~ s/^HINT:  Move the table.*\nALTER TABLE b SET SCHEMA s;\n/$&XXX\n/m;
($rc, $out) = run_case($plain, $changed_row, undef, $log);
is($rc, 1, 'a line only the migguard run has right after a logged WARNING block fails');

(my $changed_result = $warned) =~ s/^   1$/   2/m;
($rc, $out) = run_case($plain, $changed_result, undef, $log);
is($rc, 1, 'a changed result after a WARNING fails');

(my $pg_warning = $plain) =~ s/^DROP TABLE b;$/DROP TABLE b;\nWARNING:  something else\nDETAIL:  Not a rule./m;
($rc, $out) = run_case($plain, $pg_warning);
is($rc, 1, 'a WARNING without "DETAIL:  Rule <name>:" is not removed');

my $listing_plain = <<'EOF';
SELECT * FROM listing;
 name | on 
------+----
 a    | on
(1 row)

EOF
my $listing_run = <<'EOF';
SELECT * FROM listing;
    name    | on 
------------+----
 a          | on
 migguard_x | on
(2 rows)

EOF
($rc, $out) = run_case($listing_plain, $listing_run);
is($rc, 0, 'an explained row passes, with the padding and the row count it changes')
  or diag($out);
(my $listing_extra = $listing_run) =~ s/^ migguard_x \| on\n/$& other      | on\n/m;
$listing_extra =~ s/\(2 rows\)/(3 rows)/;
($rc, $out) = run_case($listing_plain, $listing_extra);
is($rc, 1, 'an unexplained extra row fails');

($rc, $out) = run_case($listing_plain, $listing_run =~ s/migguard_x/migguard_y/r);
is($rc, 1, 'a row the entry does not name fails');

(my $flaky = $plain) =~ s/^   1$/   7/m;
($rc, $out) = run_case($flaky, $plain, $plain);
is($rc, 0, 'a migguard output equal to one of two differing plain runs passes') or diag($out);

($rc, $out) = run_case($plain, $plain, undef,
	"LOG:  server process (PID 42) was terminated by signal 11: Segmentation fault\n");
is($rc, 1, 'a crash in the server log fails the mode');
like($out, qr/^REGRESSDIFF warn 1 1$/m, 'and counts as one more failure');

done_testing();
