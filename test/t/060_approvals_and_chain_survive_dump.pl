# Approvals and the hash chain survive pg_dump and pg_restore (issue 17).
#
# A database with an approval prepared ahead, rows chained, and a purge
# anchor is dumped and restored the documented way (migguard.mode = off for
# the restoring session): the approvals come back naming the same relation,
# the approval still overrides its finding, and verify_log() finds the
# restored chain intact and continued by new rows.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('ops_dump');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'migguard'
migguard.large_table_size = '64kB'
});
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE app');
$node->safe_psql('app', q{
	CREATE EXTENSION migguard;
	CREATE TABLE accounts (id bigint, email text);
	INSERT INTO accounts SELECT g, 'user' || g FROM generate_series(1, 5000) g;
	SET migguard.reason = 'ticket 9';
	ALTER TABLE accounts ADD COLUMN note text;
	SELECT migguard.approve('create_index', 'accounts', 'CAB-3: reviewed', now() + interval '1 day');
	COMMENT ON TABLE accounts IS 'customers';
});
is($node->safe_psql('app', 'SELECT migguard.verify_log() IS NULL'), 't',
	'the source chain is intact');

my $dump = $node->basedir . '/app.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-d', $node->connstr('app'), '-f', $dump ],
	'pg_dump of the database');

$node->safe_psql('postgres', 'CREATE DATABASE restored');
{
	local $ENV{PGOPTIONS} = '-c migguard.mode=off';
	$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', $node->connstr('restored'), $dump ],
		'pg_restore with migguard.mode = off');
}

is($node->safe_psql('restored', q{
	SELECT rule || ' ' || relation::text || ' ' || reason || ' ' || status FROM migguard.approvals}),
	'create_index accounts CAB-3: reviewed active',
	'the approval is restored, naming the restored table');
is($node->safe_psql('restored', q{
	SELECT count(*) FROM migguard.change_log WHERE reason = 'ticket 9'}), '2',
	'the reason is restored with its rows (ALTER TABLE and COMMENT)');
is($node->safe_psql('restored', 'SELECT migguard.verify_log() IS NULL'), 't',
	'the restored chain is intact');

# The approval still applies, without the migration changing.
my ($ret, $stdout, $stderr) = $node->psql('restored', 'CREATE INDEX ON accounts (email)');
is($ret, 0, 'the approved CREATE INDEX runs in the restored database');
like($stderr, qr/Overridden by approval 1/, 'and the warning names the approval');
is($node->safe_psql('restored', q{
	SELECT verdict || ' ' || approval_id FROM migguard.change_log ORDER BY id DESC LIMIT 1}),
	'overridden 1', 'its row records the approval');
is($node->safe_psql('restored', 'SELECT migguard.verify_log() IS NULL'), 't',
	'new rows continue the restored chain');

# A superuser's DELETE in the middle of the restored log is detected.
$node->safe_psql('restored', q{
	DELETE FROM migguard.change_log WHERE command_tag = 'ALTER TABLE'});
is($node->safe_psql('restored', 'SELECT migguard.verify_log() IS NOT NULL'), 't',
	'a deleted row in the restored log is detected');

done_testing();
