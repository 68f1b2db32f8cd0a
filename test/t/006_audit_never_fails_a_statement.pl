# The audit write never turns a statement that took effect into an error,
# never waits unbounded, and the blocked-attempt worker neither drops rows
# silently nor lets one database stop the others (issue 12, items 8, 9, 11).
#
# A session holding SHARE on migguard.change_log (which conflicts with the
# audit's ROW EXCLUSIVE) plays the obstacle:
#   - transactional DDL fails within migguard.lock_timeout, before it runs,
#     instead of waiting unbounded while holding its own lock;
#   - DROP DATABASE, ALTER SYSTEM and CREATE INDEX CONCURRENTLY succeed as
#     without migguard, and their rows reach change_log later (worker);
# read-only settings never make a statement fail or the worker drop rows;
# ALLOW_CONNECTIONS false does not stop the worker; a terminated worker
# names every record it had not written.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $node = PostgreSQL::Test::Cluster->new('audit_robust');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'migguard'
migguard.large_table_size = '8kB'
migguard.lock_timeout = '300ms'
migguard.lock_retries = 0
migguard.mode = warn
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION migguard;
	CREATE TABLE t (id int);
	INSERT INTO t SELECT generate_series(1, 5000);
	CREATE INDEX t_id ON t (id);
	CREATE DATABASE doomed;});

sub rows_for
{
	my ($db, $tag) = @_;
	return $node->safe_psql($db,
		"SELECT count(*) FROM migguard.change_log WHERE command_tag = '$tag'");
}

sub wait_rows
{
	my ($db, $tag, $want) = @_;
	for (1 .. 100)
	{
		return 1 if rows_for($db, $tag) >= $want;
		sleep 0.1;
	}
	return 0;
}

# The obstacle.
my $holder = $node->background_psql('postgres', on_error_stop => 0);
$holder->query_safe('BEGIN; LOCK migguard.change_log IN SHARE MODE;');

# 12.9: ordinary DDL does not wait unbounded on change_log.
my $start = time;
my ($rc, $out, $err) = $node->psql('postgres', 'ALTER TABLE t ADD COLUMN c int');
my $elapsed = time - $start;
isnt($rc, 0, 'ALTER TABLE fails while change_log is locked');
like($err, qr/canceling statement due to lock timeout/, 'with a lock timeout');
like($err, qr/while locking migguard\.change_log for the audit row/, 'that names change_log');
ok($elapsed < 10, "within the lock timeout, not unbounded ($elapsed s)");
is($node->safe_psql('postgres',
		q{SELECT count(*) FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'c'}),
	'0', 'before the statement ran');

# 12.8: statements that take effect before returning do not report failure.
($rc, $out, $err) = $node->psql('postgres', q{ALTER SYSTEM SET work_mem = '5MB'});
is($rc, 0, 'ALTER SYSTEM succeeds although its row cannot be written now');
($rc, $out, $err) = $node->psql('postgres', 'CREATE INDEX CONCURRENTLY t_id2 ON t (id)');
is($rc, 0, 'CREATE INDEX CONCURRENTLY succeeds');
is($node->safe_psql('postgres',
		q{SELECT indisvalid FROM pg_index WHERE indexrelid = 't_id2'::regclass}),
	't', 'and the index is valid');
($rc, $out, $err) = $node->psql('postgres', 'DROP DATABASE doomed');
is($rc, 0, 'DROP DATABASE succeeds');
like(slurp_file($node->logfile),
	qr/migguard: change_log row left to the background worker \([^)]*lock timeout[^)]*\): ALTER SYSTEM/,
	'the server log says the row went to the worker');

$holder->query_safe('COMMIT');
ok(wait_rows('postgres', 'ALTER SYSTEM', 1), 'the worker writes the ALTER SYSTEM row');
ok(wait_rows('postgres', 'CREATE INDEX', 1), 'and the CREATE INDEX CONCURRENTLY row');
ok(wait_rows('postgres', 'DROP DATABASE', 1), 'and the DROP DATABASE row');

# 12.8/12.9: read-only transactions.
($rc, $out, $err) = $node->psql('postgres', q{
	SET default_transaction_read_only = on;
	ALTER SYSTEM SET work_mem = '6MB';});
is($rc, 0, 'ALTER SYSTEM in a read-only session succeeds');
ok(wait_rows('postgres', 'ALTER SYSTEM', 2), 'and the worker writes its row');
($rc, $out, $err) = $node->psql('postgres', q{
	SET default_transaction_read_only = on;
	CLUSTER t USING t_id;});
is($rc, 0, 'CLUSTER in a read-only transaction succeeds');
like(slurp_file($node->logfile),
	qr/migguard: not recorded in change_log \(read-only transaction\): CLUSTER t USING t_id/,
	'and the server log says its row is not recorded');
$node->safe_psql('postgres', 'ALTER SYSTEM RESET work_mem');

# 12.11: a database that does not allow connections, whose default is
# read-only, still gets its blocked attempts; and the others keep theirs.
$node->safe_psql('postgres', 'CREATE DATABASE closed');
$node->safe_psql('closed', q{
	CREATE EXTENSION migguard;
	CREATE TABLE b (id int);
	INSERT INTO b SELECT generate_series(1, 5000);});
my $inside = $node->background_psql('closed', on_error_stop => 0);
$node->safe_psql('postgres', q{
	ALTER DATABASE closed ALLOW_CONNECTIONS false;
	ALTER DATABASE closed SET default_transaction_read_only = on;});
$inside->query('SET default_transaction_read_only = off');
$inside->query('SET migguard.mode = enforce; CREATE INDEX ON b (id)');
my $written = 0;
for (1 .. 100)
{
	$written = $inside->query(
		q{SELECT count(*) FROM migguard.change_log WHERE verdict = 'blocked'});
	last if $written > 0;
	sleep 0.1;
}
is($written, 1, 'a blocked attempt in a database with ALLOW_CONNECTIONS false and a read-only default is written');
$node->psql('postgres', 'SET migguard.mode = enforce; CREATE INDEX ON t (id)');
ok(wait_rows('postgres', 'CREATE INDEX', 2), 'and another database keeps getting its rows');
$inside->quit;

# 12.11: a terminated worker names each record it had not written.
$holder->query_safe('BEGIN; LOCK migguard.change_log IN SHARE MODE;');
$node->psql('postgres', q{
	SET migguard.mode = enforce;
	DO $$ BEGIN
		FOR i IN 1 .. 5 LOOP
			BEGIN
				-- Distinct attempts: identical ones share a row (blocked.c).
				EXECUTE format('CREATE INDEX t_attempt_%s ON t (id)', i);
			EXCEPTION WHEN SQLSTATE 'MG001' THEN NULL;
			END;
		END LOOP;
	END $$;});
my $worker = '';
for (1 .. 100)
{
	$worker = $node->safe_psql('postgres',
		q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'migguard blocked-attempt writer' AND datname = 'postgres'});
	last if $worker ne '';
	sleep 0.1;
}
isnt($worker, '', 'the worker waits for change_log (without queueing for its lock)');
$node->safe_psql('postgres', "SELECT pg_terminate_backend($worker)");
$holder->query_safe('COMMIT');
$holder->quit;
my $lines = 0;
for (1 .. 100)
{
	$lines = () = slurp_file($node->logfile) =~
	  /migguard: not recorded in change_log \(the background worker exited\): CREATE INDEX (?:t_attempt_\d )?ON t \(id\)/g;
	last if $lines >= 5;
	sleep 0.1;
}
# At least the DO block's five: a record queued earlier for this database
# and not yet written when the worker was terminated is named too.
cmp_ok($lines, '>=', 5, 'SIGTERM of the worker: a "not recorded" line for each of its 5 records');

$node->stop;
done_testing();
