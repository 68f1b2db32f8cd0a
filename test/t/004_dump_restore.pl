# pg_dump and restore keep the audit log.
#
# Proves that a database's change_log survives pg_dump -Fc and pg_restore into
# a fresh migguard-guarded cluster, restored the documented way
# (the restoring session runs with migguard.mode = off, so a large index is
# rebuilt without being blocked and the restore's own DDL is not recorded),
# that new rows after the restore continue the identity, and that ordinary
# sessions of the restored database stay guarded.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use IPC::Run;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dump');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'migguard'
migguard.large_table_size = '64kB'
});
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE app');
$node->safe_psql('app', q{
	CREATE EXTENSION migguard;
	SET migguard.tag = 'before_dump';
	CREATE TABLE accounts (id bigint PRIMARY KEY, email text);
	INSERT INTO accounts SELECT g, 'user' || g FROM generate_series(1, 5000) g;
	CREATE INDEX CONCURRENTLY accounts_email_idx ON accounts (email);
	ALTER TABLE accounts ADD COLUMN note text;
	COMMENT ON TABLE accounts IS 'customers';
});
my $before = $node->safe_psql('app', q{
	SELECT string_agg(id || ':' || command_tag || ':' || statement || ':' || verdict, E'\n' ORDER BY id)
	FROM migguard.change_log});
ok(length($before) > 0, 'the source database has change_log rows');

my $dump = $node->basedir . '/app.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-d', $node->connstr('app'), '-f', $dump ],
	'pg_dump of the database');

# A fresh guarded cluster to restore into.
my $target = PostgreSQL::Test::Cluster->new('target');
$target->init;
$target->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'migguard'
migguard.large_table_size = '64kB'
});
$target->start;

# Without the procedure (here only the audit is off, so the restore's own DDL
# is not recorded), the guard stops the restore where it rebuilds an index of
# the large table (its primary key comes first).
$target->safe_psql('postgres', 'CREATE DATABASE restored_plainly');
{
	local $ENV{PGOPTIONS} = '-c migguard.audit=off';
	my ($stdout, $stderr) = ('', '');
	IPC::Run::run([ 'pg_restore', '--exit-on-error', '-d',
					$target->connstr('restored_plainly'), $dump ],
				  '>', \$stdout, '2>', \$stderr);
	like($stderr, qr/ERROR:  (ADD PRIMARY KEY would build an index|CREATE INDEX) on "public.accounts"/,
		'a restore with the guard on is stopped where it rebuilds an index of the large table');
}

# The documented restore: a superuser session with the guard off.
$target->safe_psql('postgres', 'CREATE DATABASE restored');
{
	local $ENV{PGOPTIONS} = '-c migguard.mode=off';
	$target->command_ok([ 'pg_restore', '--exit-on-error', '-d', $target->connstr('restored'), $dump ],
		'pg_restore with migguard.mode = off rebuilds the large index without being blocked');
}

my $after = $target->safe_psql('restored', q{
	SELECT string_agg(id || ':' || command_tag || ':' || statement || ':' || verdict, E'\n' ORDER BY id)
	FROM migguard.change_log});
is($after, $before, 'every change_log row is restored, and the restore added none');

$target->safe_psql('restored', 'ALTER TABLE accounts ADD COLUMN flag boolean');
is($target->safe_psql('restored', q{
	SELECT max(id) > (SELECT count(*) FROM migguard.change_log WHERE tag = 'before_dump')
	   AND count(*) = count(DISTINCT id)
	FROM migguard.change_log}), 't', 'new rows continue the identity after the restore');

my ($rc, $out, $err) = $target->psql('restored', 'CREATE INDEX ON accounts (note)');
like($err, qr/would block writes for the whole index build/,
	'an ordinary session of the restored database is guarded');

done_testing();
