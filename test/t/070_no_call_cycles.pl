# 070_no_call_cycles: the stages of src/ call only the stages below them
# (issue 18): scripts/call-graph.py finds no circle among the modules, and
# a circle put into a copy of src/ is found (so the check can fail).
use strict;
use warnings;
use File::Temp qw(tempdir);
use File::Copy qw(copy);
use FindBin;
use Test::More;

my $root = "$FindBin::Bin/../..";
my $script = "$root/scripts/call-graph.py";

my $out = `python3 $script $root/src 2>&1`;
is($? >> 8, 0, 'no module of src/ calls back into a module that calls it')
  or diag($out);
like($out, qr/^migguard -> .*\bgate\b/m, 'the hook calls the gate');
unlike($out, qr/^audit -> .*\bact\b/m, 'the change_log writer does not call the act stage');

# A copy of src/ in which audit.c calls migguard_act(): audit -> act ->
# blocked -> audit is a circle, and the script must say so.
my $copy = tempdir(CLEANUP => 1);
copy($_, $copy) or die "copy $_: $!" for glob("$root/src/*.c");
open(my $fh, '>>', "$copy/audit.c") or die $!;
print $fh "\nstatic void circle(void) { migguard_act(NULL, NIL, 0, 0); }\n";
close $fh;
$out = `python3 $script $copy 2>&1`;
is($? >> 8, 1, 'a circle put into a copy of src/ fails the check');
like($out, qr/^circle: .*\bact\b.*\baudit\b/m, 'and names the modules of the circle');

done_testing();
