# Replication and crash safety of the audit log.
#
# Proves that
#   * a streaming standby made with pg_basebackup -R receives the primary's
#     change_log rows, lints with the primary's table sizes through
#     migguard.check(), and that nothing migguard does there tries to write
#     (no worker, no error of migguard's, PostgreSQL's own read-only error
#     for DDL);
#   * after kill -9 of a backend, and separately of the postmaster, in the
#     middle of a multi-statement migration transaction, recovery leaves the
#     schema and change_log in agreement: the committed migration has its
#     rows, the interrupted one has neither schema changes nor rows.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $conf = qq{
shared_preload_libraries = 'migguard'
migguard.large_table_size = '64kB'
};

# ---------------------------------------------------------------- standby
my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', $conf);
$primary->start;
$primary->safe_psql('postgres', q{
	CREATE EXTENSION migguard;
	CREATE TABLE accounts (id bigint PRIMARY KEY, email text);
	INSERT INTO accounts SELECT g, 'user' || g FROM generate_series(1, 5000) g;});

$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;

# DDL after the standby exists reaches it through WAL, rows included.
$primary->safe_psql('postgres', q{
	SET migguard.tag = '0007_after_standby';
	ALTER TABLE accounts ADD COLUMN note text;
	CREATE INDEX CONCURRENTLY accounts_email_idx ON accounts (email);
	COMMENT ON TABLE accounts IS 'customers';});
$primary->wait_for_catchup($standby);

my $rows_query = q{SELECT string_agg(id || ' ' || command_tag || ' ' || coalesce(tag, '-'), ', ' ORDER BY id)
	FROM migguard.change_log};
my $on_primary = $primary->safe_psql('postgres', $rows_query);
like($on_primary, qr/ALTER TABLE 0007_after_standby/, 'the primary recorded the migration');
is($standby->safe_psql('postgres', $rows_query), $on_primary,
	'the standby has the same change_log rows');

is($standby->safe_psql('postgres', q{
	SELECT table_size = (SELECT pg_table_size('accounts'))
	FROM migguard.check('CREATE INDEX ON accounts (note)')}),
	't', 'check() on the standby reports the table size replicated from the primary');

my ($rc, $out, $err) = $standby->psql('postgres', 'CREATE INDEX ON accounts (note)');
like($err, qr/cannot execute CREATE INDEX in a read-only transaction/,
	'DDL on the standby gets PostgreSQL\'s read-only error');
($rc, $out, $err) = $standby->psql('postgres', 'DROP TABLE accounts');
unlike($err, qr/migguard/, 'the guard stays out of recovery: no migguard message on the standby');
is($standby->safe_psql('postgres', q{
	SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'migguard%'}),
	'0', 'no migguard worker runs on the standby');
my $standby_log = slurp_file($standby->logfile);
unlike($standby_log, qr/ERROR:.*(change_log|migguard)/,
	'the standby log has no migguard write error');
$standby->stop;
$primary->stop;

# ---------------------------------------------------------------- crashes
my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
# Test clusters default to restart_after_crash = off; production does not.
$node->append_conf('postgresql.conf', $conf . "restart_after_crash = on\n");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION migguard;
	SET migguard.tag = 'committed';
	CREATE TABLE orders (id bigint PRIMARY KEY);
	ALTER TABLE orders ADD COLUMN total numeric;});

# Crash recovery takes a moment: wait until the server accepts connections.
sub wait_until_ready
{
	# Give the postmaster time to notice the crash before asking.
	sleep 1;
	for (1 .. 120)
	{
		return if system('pg_isready', '-q', '-h', $node->host, '-p', $node->port) == 0;
		sleep 1;
	}
	die 'the server did not come back after the crash';
}

# Runs a migration transaction up to its middle, kills, recovers, checks.
sub interrupted_migration
{
	my ($name, $kill, $recover) = @_;
	my $session = $node->background_psql('postgres', on_error_stop => 0);
	$session->query_safe(qq{
		BEGIN;
		SET LOCAL migguard.tag = '$name';
		CREATE TABLE ${name}_a (id int);
		ALTER TABLE ${name}_a ADD COLUMN x int;
		CREATE INDEX ON ${name}_a (x);});
	my $pid = $session->query_safe('SELECT pg_backend_pid()');
	$kill->($pid);
	eval { $session->quit; };
	$recover->();

	is($node->safe_psql('postgres', "SELECT to_regclass('${name}_a') IS NULL"), 't',
		"$name: the interrupted migration left no table");
	is($node->safe_psql('postgres', "SELECT count(*) FROM migguard.change_log WHERE tag = '$name'"),
		'0', "$name: and no change_log row");
	is($node->safe_psql('postgres', q{
		SELECT string_agg(command_tag, ', ' ORDER BY id) FROM migguard.change_log WHERE tag = 'committed'}),
		'CREATE TABLE, ALTER TABLE', "$name: the committed migration keeps its rows");
}

# kill -9 of the backend: the postmaster resets every backend and recovers.
interrupted_migration('backend_killed',
	sub { my ($pid) = @_; kill 'KILL', $pid; },
	\&wait_until_ready);

# kill -9 of the postmaster: a restart replays the WAL.
my $postmaster_pid;
interrupted_migration('postmaster_killed',
	sub { $postmaster_pid = $node->{_pid}; $node->kill9; },
	sub {
		# Wait until the killed postmaster is gone, and its orphaned
		# backends after it, then start; a start that fails because one
		# still holds shared memory is retried.
		for (1 .. 60)
		{
			last unless kill(0, $postmaster_pid);
			sleep 1;
		}
		for (1 .. 60)
		{
			return if $node->start(fail_ok => 1);
			$node->{_pid} = undef;
			sleep 1;
		}
		die 'the server did not restart after kill -9 of the postmaster';
	});

# The log keeps working after recovery.
$node->safe_psql('postgres', q{SET migguard.tag = 'after'; CREATE TABLE after_recovery (id int);});
is($node->safe_psql('postgres', "SELECT count(*) FROM migguard.change_log WHERE tag = 'after'"),
	'1', 'rows are written again after recovery');
$node->stop;

done_testing();
