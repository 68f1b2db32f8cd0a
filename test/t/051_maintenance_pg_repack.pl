# pg_repack runs unmodified on a guarded server, through the documented role
# policy for maintenance tools (README "Maintenance tools"):
#
#     CREATE ROLE maintenance LOGIN SUPERUSER;
#     ALTER ROLE maintenance SET migguard.mode = 'audit';
#
# Debian's pg_repack (`--table`, `--index`, `--tablespace`) on a table above
# migguard.large_table_size exits 0, leaves nothing behind in schema repack,
# writes no blocked row, and its DDL is still recorded in change_log under the
# maintenance role; ordinary sessions stay in enforce mode.  Without the
# policy, the cleanup DROP TABLE of pg_repack is blocked (issue 16).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $bindir = `pg_config --bindir`;
chomp $bindir;
plan skip_all => "pg_repack is not installed in $bindir (postgresql-15-repack)"
	unless -x "$bindir/pg_repack";
# Debian bookworm builds pg_repack for PostgreSQL 15 only (postgresql-15-repack): a
# library of 15 does not load into 17 and later (scripts/test.sh --pg N).
my ($major) = `pg_config --version` =~ /PostgreSQL (\d+)/;
plan skip_all => "pg_repack is packaged for PostgreSQL 15 only (postgresql-15-repack); this server is $major"
	unless $major == 15;

my $node = PostgreSQL::Test::Cluster->new('repack');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'migguard'
migguard.large_table_size = '64kB'
});
$node->start;

my $tsdir = $node->basedir . '/ts_repack';
mkdir $tsdir or die "mkdir $tsdir: $!";
$node->safe_psql('postgres', qq{CREATE TABLESPACE ts_repack LOCATION '$tsdir'});
$node->safe_psql('postgres', 'CREATE DATABASE rp');
$node->safe_psql('rp', q{
	CREATE EXTENSION migguard;
	CREATE EXTENSION pg_repack;
	CREATE TABLE big (id bigint PRIMARY KEY, val text);
	CREATE INDEX big_val_idx ON big (val);
	INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, 20000) g;
	CREATE ROLE maintenance LOGIN SUPERUSER;
	ALTER ROLE maintenance SET migguard.mode = 'audit';
});
ok($node->safe_psql('rp', q{SELECT pg_table_size('big') > 64 * 1024}), 'the table is large');

# Without the policy the repack's own DDL is judged like any migration's.
my ($rc, $out, $err) = $node->psql('rp', 'VACUUM FULL big');
like($err, qr/ERROR:/, 'an ordinary session in enforce mode is blocked rewriting the large table');
# The blocked attempt's row is written by the background worker, a moment
# later: wait for it, so that it is not counted as a row of the repacks.
ok($node->poll_query_until('rp', q{
	SELECT count(*) = 1 FROM migguard.change_log WHERE verdict = 'blocked' AND statement = 'VACUUM FULL big'}),
	"the blocked attempt's row is written");

sub repack_ok
{
	my ($name, @args) = @_;
	my $first = $node->safe_psql('rp', 'SELECT coalesce(max(id), 0) FROM migguard.change_log');
	my ($stdout, $stderr) = ('', '');
	my $ok = IPC::Run::run([ 'pg_repack', '-U', 'maintenance', '-h', $node->host, '-p', $node->port,
			'-d', 'rp', @args ], '>', \$stdout, '2>', \$stderr,
		IPC::Run::timeout(120));
	ok($ok, "pg_repack $name exits 0") or diag("stdout: $stdout\nstderr: $stderr");
	is($node->safe_psql('rp', q{
		SELECT count(*) FROM pg_class WHERE relnamespace = 'repack'::regnamespace AND relkind IN ('r', 'i', 'S')}),
		'0', "pg_repack $name leaves no table, log or index behind in schema repack");
	is($node->safe_psql('rp', q{SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'repack%'}),
		'0', "pg_repack $name leaves no trigger behind");
	is($node->safe_psql('rp', qq{
		SELECT count(*) FROM migguard.change_log WHERE id > $first AND verdict = 'blocked'}),
		'0', "pg_repack $name writes no blocked row");
	ok($node->safe_psql('rp', qq{
		SELECT count(*) > 0 FROM migguard.change_log
		WHERE id > $first AND session_user_name = 'maintenance'}),
		"pg_repack $name: its DDL is recorded in change_log under the maintenance role");
	return;
}

require IPC::Run;
repack_ok('--table', '--table', 'big');
is($node->safe_psql('rp', 'SELECT count(*) FROM big'), '20000', 'the repacked table has every row');
repack_ok('--index', '--index', 'big_val_idx');
repack_ok('--tablespace', '--table', 'big', '--tablespace', 'ts_repack');
is($node->safe_psql('rp', q{
	SELECT t.spcname FROM pg_class c JOIN pg_tablespace t ON t.oid = c.reltablespace WHERE c.relname = 'big'}),
	'ts_repack', 'pg_repack --tablespace moved the table');

# The policy is the maintenance role's only: other sessions stay guarded.
($rc, $out, $err) = $node->psql('rp', 'VACUUM FULL big');
like($err, qr/ERROR:/, 'after the repacks an ordinary session is still blocked');

$node->stop;
done_testing();
