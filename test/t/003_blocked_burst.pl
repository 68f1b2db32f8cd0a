# Blocked attempts survive their rollback.
#
# Proves that 1,000 statements blocked by the guard, from 20 concurrent
# sessions, all reach migguard.change_log with verdict 'blocked' (written by
# the background worker from the shared-memory queue), and that when no
# worker can start and the queue is full, the server log names every
# attempt that was not recorded: nothing is dropped silently.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use IPC::Run;
use Test::More;

my $sessions = 20;
my $per_session = 50;
my $total = $sessions * $per_session;

sub burst
{
	my ($node) = @_;
	my @runs;
	for my $s (1 .. $sessions)
	{
		my $sql = qq{
			SET migguard.tag = 'burst';
			DO \$\$
			BEGIN
				FOR i IN 1 .. $per_session LOOP
					BEGIN
						-- Distinct attempts: identical ones share a row (blocked.c).
						EXECUTE format('CREATE INDEX burst_%s_%s ON burst (id)', pg_backend_pid(), i);
					EXCEPTION WHEN SQLSTATE 'MG001' THEN
						NULL;
					END;
				END LOOP;
			END
			\$\$;};
		push @runs, IPC::Run::start(
			[ 'psql', '-X', '-q', '-d', $node->connstr('postgres'), '-c', $sql ],
			'>', \my $out, '2>', \my $err);
	}
	$_->finish for @runs;
}

# Polls until the blocked rows stop growing (or the expected count arrives).
sub blocked_rows
{
	my ($node, $expected) = @_;
	my $rows = 0;
	my $last = -1;
	for (1 .. 150)
	{
		$rows = $node->safe_psql('postgres',
			q{SELECT count(*) FROM migguard.change_log WHERE verdict = 'blocked' AND tag = 'burst'});
		last if $rows == $expected;
		last if $rows == $last && $rows > 0;
		$last = $rows;
		sleep 1 if $rows != $expected;
	}
	return $rows;
}

sub setup
{
	my ($name, $conf) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'migguard'
migguard.large_table_size = '64kB'
max_connections = 40
$conf
});
	$node->start;
	$node->safe_psql('postgres', q{
		CREATE EXTENSION migguard;
		CREATE TABLE burst (id bigint);
		INSERT INTO burst SELECT generate_series(1, 10000);});
	return $node;
}

# A queue large enough for the burst: every attempt becomes a row.
my $node = setup('burst', '');
burst($node);
is(blocked_rows($node, $total), $total,
	"$total blocked attempts from $sessions sessions all reach change_log");
is($node->safe_psql('postgres', q{
	SELECT count(DISTINCT pid) FROM migguard.change_log WHERE tag = 'burst'}),
	$sessions, 'the rows name every session');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM migguard.change_log
	WHERE tag = 'burst' AND NOT (findings @> '[{"rule": "create_index"}]')}),
	0, 'each row carries the create_index finding');
$node->stop;

# No worker can start and the queue holds 16: every attempt is still
# accounted for in the server log, as queued or as not recorded.
my $small = setup('small_queue',
	"migguard.blocked_queue_size = 16\nmax_worker_processes = 0");
burst($small);
my $log = slurp_file($small->logfile);
my $dropped = () = $log =~ /migguard: blocked-attempt queue is full; not recorded in change_log: CREATE INDEX/g;
my $waiting = () = $log =~ /migguard: no background worker could start to record blocked attempts; queued until one can: CREATE INDEX/g;
is($waiting, 16, 'the attempts that fit in the queue wait there, and the log says so');
is($dropped + $waiting, $total,
	"with no worker and a full queue every attempt is named in the server log ($dropped not recorded)");
my $blocked_lines = () = $log =~ /LOG:  migguard: blocked CREATE INDEX/g;
is($blocked_lines, $total, 'and every attempt is in the server log');
$small->stop;

done_testing();
