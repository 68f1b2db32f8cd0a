# migguard.check() on a hot standby.
#
# Proves that a migration can be linted against production sizes on a
# read-only streaming standby made with pg_basebackup: check() answers there
# with the primary's table sizes, takes no lock beyond ACCESS SHARE, and the
# guard itself stays out of the way of recovery (PostgreSQL's own read-only
# error is what a DDL statement gets on the standby).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'migguard'
migguard.large_table_size = '64kB'
});
$primary->start;
$primary->safe_psql('postgres', q{
	CREATE EXTENSION migguard;
	CREATE TABLE accounts (id bigint NOT NULL, email text);
	INSERT INTO accounts SELECT g, 'user' || g || '@example.com'
	  FROM generate_series(1, 5000) g;
	CHECKPOINT;
});
my $primary_size = $primary->safe_psql('postgres',
	q{SELECT pg_relation_size('accounts')});

# pg_basebackup, then streaming replication (standby.signal + primary_conninfo).
$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;
$primary->wait_for_catchup($standby);

is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'),
	't', 'the standby is a read-only hot standby');

my $finding = $standby->safe_psql('postgres', q{
	SELECT rule || ' ' || level || ' ' || relation
	FROM migguard.check('CREATE INDEX accounts_email_idx ON accounts (email)')});
is($finding, 'create_index error public.accounts',
	'check() on the standby finds the unsafe CREATE INDEX');

my $sizes = $standby->safe_psql('postgres', q{
	SELECT table_size >= pg_relation_size('accounts')
	   AND table_size = pg_table_size('accounts')
	FROM migguard.check('CREATE INDEX accounts_email_idx ON accounts (email)')});
is($sizes, 't', 'check() reports the table size as stored on the standby');
is($standby->safe_psql('postgres', q{SELECT pg_relation_size('accounts')}),
	$primary_size, 'which is the primary table size');

my $locks = $standby->safe_psql('postgres', q{
	BEGIN;
	SELECT count(*) FROM migguard.check('DROP TABLE accounts; TRUNCATE accounts');
	SELECT string_agg(DISTINCT mode, ',') FROM pg_locks
	WHERE pid = pg_backend_pid() AND relation = 'accounts'::regclass;
	COMMIT;});
like($locks, qr/^2\n(AccessShareLock)?$/,
	'check() on the standby takes at most ACCESS SHARE');

my ($rc, $out, $err) = $standby->psql('postgres',
	'CREATE INDEX accounts_email_idx ON accounts (email)');
like($err, qr/cannot execute CREATE INDEX in a read-only transaction/,
	'DDL on the standby gets PostgreSQL\'s read-only error, not migguard\'s');

my ($rc2, $out2, $err2) = $primary->psql('postgres',
	'CREATE INDEX accounts_email_idx ON accounts (email)');
like($err2, qr/would block writes for the whole index build/,
	'the same statement on the primary is blocked by the guard');

done_testing();
