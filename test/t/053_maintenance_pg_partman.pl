# pg_partman (Debian's postgresql-15-partman, 4.7) on a guarded server,
# through the README's "Maintenance tools" role policy: create_parent and
# run_maintenance() as the maintenance role (migguard.mode = 'audit') create
# the partitions ahead and drop the expired one by retention, every
# statement recorded in change_log and none blocked.  For an ordinary session
# in enforce mode, the retention DROP TABLE of a large partition is blocked.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $sharedir = `pg_config --sharedir`;
chomp $sharedir;
plan skip_all => "pg_partman is not installed in $sharedir (postgresql-15-partman)"
	unless -f "$sharedir/extension/pg_partman.control";

my $node = PostgreSQL::Test::Cluster->new('partman');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'migguard'
migguard.large_table_size = '64kB'
});
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE app');
$node->safe_psql('app', q{
	CREATE EXTENSION migguard;
	CREATE SCHEMA partman;
	CREATE EXTENSION pg_partman SCHEMA partman;
	CREATE ROLE maintenance LOGIN SUPERUSER;
	ALTER ROLE maintenance SET migguard.mode = 'audit';
	CREATE TABLE events (id bigint NOT NULL, payload text) PARTITION BY RANGE (id);
});

sub as_maintenance
{
	my ($sql) = @_;
	my ($rc, $out, $err) = $node->psql('app', $sql, extra_params => [ '-U', 'maintenance' ]);
	return ($rc, $err);
}

sub partitions
{
	return $node->safe_psql('app', q{
		SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_inherits i
		JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass});
}

my ($rc, $err) = as_maintenance(q{
	SELECT partman.create_parent('public.events', 'id', 'native', '10000', p_premake := 2)});
is($rc, 0, 'create_parent as the maintenance role') or diag($err);
is(partitions(), 'events_default,events_p0,events_p10000,events_p20000',
	'create_parent created the first partition, two ahead and the default');

$node->safe_psql('app', q{
	SET migguard.mode = off;
	INSERT INTO events SELECT g, md5(g::text) FROM generate_series(1, 25000) g});
($rc, $err) = as_maintenance('SELECT partman.run_maintenance()');
is($rc, 0, 'run_maintenance() as the maintenance role') or diag($err);
like(partitions(), qr/events_p30000,events_p40000/, 'run_maintenance() created partitions ahead');

# Retention: partitions wholly below max(id) - 15000 are dropped.
$node->safe_psql('app', q{
	UPDATE partman.part_config SET retention = '15000', retention_keep_table = false
	WHERE parent_table = 'public.events'});
ok($node->safe_psql('app', q{SELECT pg_table_size('events_p0') > 64 * 1024}),
	'the partition retention will drop is large');

my ($orc, $oout, $oerr) = $node->psql('app', 'SELECT partman.run_maintenance()');
like($oerr, qr/ERROR:  /, 'for an ordinary session in enforce mode the retention drop is blocked');
like(partitions(), qr/events_p0,/, 'and the partition is still there');

my $first = $node->safe_psql('app', 'SELECT coalesce(max(id), 0) FROM migguard.change_log');
($rc, $err) = as_maintenance('SELECT partman.run_maintenance()');
is($rc, 0, 'run_maintenance() with retention as the maintenance role') or diag($err);
unlike(partitions(), qr/events_p0,/, 'the expired partition was dropped by retention');
is($node->safe_psql('app', qq{
	SELECT count(*) FROM migguard.change_log WHERE id > $first AND verdict = 'blocked'}),
	'0', 'no blocked row');
ok($node->safe_psql('app', qq{
	SELECT count(*) > 0 FROM migguard.change_log
	WHERE id > $first AND session_user_name = 'maintenance' AND command_tag = 'DROP TABLE'}),
	'the retention DROP TABLE is recorded in change_log under the maintenance role');

$node->stop;
done_testing();
