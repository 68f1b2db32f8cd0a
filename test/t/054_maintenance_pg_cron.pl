# pg_cron (Debian's postgresql-15-cron, 1.4) with migguard: a scheduled job
# that runs DDL is guarded and recorded like any session's, the job named in
# change_log through the README's convention (the job's command starts with
# SET migguard.tag = '<job name>'; pg_cron's sessions have
# application_name = 'pg_cron').
#
# The cluster preloads 'pg_cron,migguard'; pg_cron's launcher lives in
# database postgres and runs the jobs in database app through
# cron.schedule_in_database.  pg_cron 1.4 schedules by the minute, so each
# job runs within a minute.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $libdir = `pg_config --pkglibdir`;
chomp $libdir;
plan skip_all => "pg_cron is not installed in $libdir (postgresql-15-cron)"
	unless -f "$libdir/pg_cron.so";
# Debian bookworm builds pg_cron for PostgreSQL 15 only (postgresql-15-cron): a
# library of 15 does not load into 17 and later (scripts/test.sh --pg N).
my ($major) = `pg_config --version` =~ /PostgreSQL (\d+)/;
plan skip_all => "pg_cron is packaged for PostgreSQL 15 only (postgresql-15-cron); this server is $major"
	unless $major == 15;

my $node = PostgreSQL::Test::Cluster->new('cron');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_cron,migguard'
cron.database_name = 'postgres'
cron.host = '@{[ $node->host ]}'
migguard.large_table_size = '64kB'
});
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE app');
$node->safe_psql('app', q{
	CREATE EXTENSION migguard;
	CREATE TABLE big (id bigint PRIMARY KEY, val text);
	INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, 20000) g;
});
$node->safe_psql('postgres', q{
	CREATE EXTENSION pg_cron;
	SELECT cron.schedule_in_database('add_note_column', '* * * * *',
		$$SET migguard.tag = 'add_note_column'; ALTER TABLE big ADD COLUMN IF NOT EXISTS note text$$, 'app');
	SELECT cron.schedule_in_database('index_big_val', '* * * * *',
		$$SET migguard.tag = 'index_big_val'; CREATE INDEX big_val_idx ON big (val)$$, 'app');
});

ok($node->poll_query_until('app', q{
	SELECT count(*) > 0 FROM migguard.change_log WHERE tag = 'add_note_column' AND verdict = 'allowed'}),
	'the safe DDL job ran and is recorded with the job named in tag');
is($node->safe_psql('app', q{
	SELECT DISTINCT application_name || ':' || command_tag || ':' || statement FROM migguard.change_log
	WHERE tag = 'add_note_column'}),
	'pg_cron:ALTER TABLE:ALTER TABLE big ADD COLUMN IF NOT EXISTS note text',
	'its row names pg_cron as the application and the statement');

ok($node->poll_query_until('app', q{
	SELECT count(*) > 0 FROM migguard.change_log WHERE tag = 'index_big_val' AND verdict = 'blocked'}),
	'the job building an index on the large table is blocked and recorded with the job named');
is($node->safe_psql('app', q{SELECT to_regclass('big_val_idx') IS NULL}), 't',
	'the blocked job built no index');
ok($node->poll_query_until('postgres', q{
	SELECT count(*) > 0 FROM cron.job_run_details d JOIN cron.job j USING (jobid)
	WHERE j.jobname = 'index_big_val' AND d.status = 'failed' AND d.return_message LIKE 'ERROR:  CREATE INDEX%'}),
	'pg_cron records the job as failed with migguard\'s message');

$node->safe_psql('postgres', q{SELECT cron.unschedule(jobname) FROM cron.job});
$node->stop;
done_testing();
