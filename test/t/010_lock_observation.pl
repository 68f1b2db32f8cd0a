# Lock observation (issue 13): what migguard says about locks, against pg_locks.
#
# Starts a server preloading migguard and runs test/lockobs/lockobs_test.py
# against it; that script prints the TAP (one test per corpus statement and
# aspect: recall, precision, log, rewrite, busy; its header defines each) and
# this file passes it through to prove.  Known failures of the corpus are
# TODO tests ("-- known:" markers in test/lockobs/corpus.sql).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# The Python script prints the plan and the tests itself.
Test::More->builder->no_ending(1);

my $node = PostgreSQL::Test::Cluster->new('lockobs');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'migguard'
max_connections = 40
fsync = off
});
$node->start;

my $python = -x '/usr/bin/python3' ? '/usr/bin/python3' : 'python3';
$ENV{PGHOST} = $node->host;
$ENV{PGPORT} = $node->port;
delete $ENV{PGDATABASE};
$ENV{LOCKOBS_RESULTS} //= "${PostgreSQL::Test::Utils::tmp_check}/lockobs_results.json";
# PostgreSQL::Test::Utils sends STDOUT to the test's log; only Test::More's
# output handle (tied to the original STDOUT and the log) reaches prove.  So
# the script's TAP is read here and printed through that handle.
my $to_prove = Test::More->builder->output;
open(my $tap, '-|', $python, "$ENV{TESTDIR}/lockobs/lockobs_test.py")
  or die "could not run $python: $!";
while (my $line = <$tap>)
{
	print $to_prove $line;
}
close($tap);
my $rc = $?;

$node->stop;
exit($rc == 0 ? 0 : 1);
