# The online schema-change tools' own DDL on a guarded server: a replay of
# pgroll's `complete` step (RENAME COLUMN of its shadow column, dropping the
# old one and its trigger) and of pg-osc's swap (LOCK ... ACCESS EXCLUSIVE;
# ALTER TABLE ... RENAME TO, twice, in one transaction).
#
# Both are blocked for an ordinary session in enforce mode (rename_column,
# rename_table: a rename breaks deployed code that the tool has already
# taken care of), and both pass, recorded in change_log, for the role the
# README's "Maintenance tools" policy sets to migguard.mode = 'audit'.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('osc');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'migguard'
migguard.large_table_size = '64kB'
});
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE app');

my $setup = q{
	DROP TABLE IF EXISTS users, pgosc_shadow_table_for_users, pgosc_op_table_users CASCADE;
	CREATE TABLE users (id bigint PRIMARY KEY, email text, _pgroll_new_email varchar(320));
	INSERT INTO users SELECT g, 'u' || g, 'u' || g FROM generate_series(1, 5000) g;
	CREATE TABLE pgosc_shadow_table_for_users (LIKE users INCLUDING ALL);
	INSERT INTO pgosc_shadow_table_for_users SELECT * FROM users;
};

# pgroll's `complete` for an alter_column (type change) operation.
my $pgroll_complete = q{
	BEGIN;
	ALTER TABLE users DROP COLUMN email;
	ALTER TABLE users RENAME COLUMN _pgroll_new_email TO email;
	COMMIT;
};
# pg-osc's swap.
my $pgosc_swap = q{
	BEGIN;
	SET lock_timeout = '5s';
	LOCK TABLE users IN ACCESS EXCLUSIVE MODE;
	ALTER TABLE users RENAME TO pgosc_op_table_users;
	ALTER TABLE pgosc_shadow_table_for_users RENAME TO users;
	COMMIT;
};

$node->safe_psql('app', q{
	CREATE EXTENSION migguard;
	CREATE ROLE maintenance LOGIN SUPERUSER;
	ALTER ROLE maintenance SET migguard.mode = 'audit';
});

for my $replay ([ 'pgroll complete', $pgroll_complete, qr/rename_column|RENAME COLUMN|DROP COLUMN/ ],
	[ 'pg-osc swap', $pgosc_swap, qr/rename_table|RENAME/ ])
{
	my ($name, $sql, $blocked) = @$replay;
	$node->safe_psql('app', "SET migguard.mode = off; $setup");
	my ($rc, $out, $err) = $node->psql('app', $sql);
	like($err, qr/ERROR:  /, "$name: blocked for an ordinary session in enforce mode");
	like($err, $blocked, "$name: the message names the rename or drop");

	my $first = $node->safe_psql('app', 'SELECT coalesce(max(id), 0) FROM migguard.change_log');
	($rc, $out, $err) = $node->psql('app', $sql, extra_params => [ '-U', 'maintenance' ]);
	is($rc, 0, "$name: passes for the maintenance role") or diag($err);
	unlike($err, qr/ERROR|WARNING/, "$name: no error or warning for the maintenance role");
	ok($node->safe_psql('app', qq{
		SELECT count(*) >= 2 FROM migguard.change_log
		WHERE id > $first AND session_user_name = 'maintenance' AND verdict <> 'blocked'}),
		"$name: its statements are recorded in change_log");
}
is($node->safe_psql('app', q{SELECT to_regclass('pgosc_op_table_users') IS NOT NULL
	AND to_regclass('pgosc_shadow_table_for_users') IS NULL AND (SELECT count(*) FROM users) = 5000}),
	't', 'after the swap, users is the former shadow table and the old one is kept aside');

$node->stop;
done_testing();
