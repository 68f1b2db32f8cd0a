# How long each strong lock was held (issue 15, item 4): at commit, abort,
# PREPARE TRANSACTION and the rollback of the subtransaction that took it,
# the server log gets one line per relation this transaction locked SHARE or
# stronger through a statement migguard guarded, with the time from the
# start of that statement to the release; no client sees it; a weak lock, a
# table created in the transaction and a transaction without DDL log
# nothing.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('holds');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'migguard'
max_prepared_transactions = 2
migguard.lock_timeout = '5s'
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION migguard;
	CREATE TABLE public.orders (id int);
	CREATE TABLE public.items (id int);});

# Each case: the log from here on.
sub log_of
{
	my ($sql) = @_;
	my $offset = -s $node->logfile;
	my ($stdout, $stderr);
	$node->psql('postgres', $sql, stdout => \$stdout, stderr => \$stderr);
	return (slurp_file($node->logfile, $offset), $stderr);
}

my ($log, $stderr) = log_of(q{
	BEGIN;
	ALTER TABLE public.orders ADD COLUMN note text;
	SELECT pg_sleep(1.2);
	COMMIT;});
like($log,
	qr/LOG:  migguard: this transaction held AccessExclusiveLock on public\.orders for (1\.[2-9]|[2-9]\.\d) s/,
	'commit: the ALTER TABLE held ACCESS EXCLUSIVE on public.orders for the whole transaction');
unlike($stderr, qr/this transaction held/, 'the client does not see the line');

($log) = log_of(q{
	BEGIN;
	CREATE TRIGGER t BEFORE UPDATE ON public.items FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger();
	LOCK TABLE public.orders IN SHARE MODE;
	ROLLBACK;});
like($log, qr/held ShareRowExclusiveLock on public\.items for \d+\.\d s/,
	'abort: SHARE ROW EXCLUSIVE of CREATE TRIGGER');
like($log, qr/held ShareLock on public\.orders for \d+\.\d s/,
	'abort: SHARE of LOCK TABLE');

($log) = log_of(q{
	BEGIN;
	LOCK TABLE public.orders IN SHARE MODE;
	ALTER TABLE public.orders ADD COLUMN flag int;
	COMMIT;});
my @lines = ($log =~ /(this transaction held \S+ on public\.orders)/g);
is_deeply(\@lines, ['this transaction held AccessExclusiveLock on public.orders'],
	'one line per relation, with the strongest mode');

($log) = log_of(q{
	BEGIN;
	SAVEPOINT s;
	LOCK TABLE public.items IN EXCLUSIVE MODE;
	ROLLBACK TO SAVEPOINT s;
	SELECT pg_sleep(0.3);
	COMMIT;});
like($log, qr/held ExclusiveLock on public\.items for \d+\.\d s \(until its subtransaction rolled back\)/,
	'ROLLBACK TO SAVEPOINT ends the hold of a lock the subtransaction took');
is(scalar(() = $log =~ /this transaction held/g), 1, '... and the commit logs it no more');

($log) = log_of(q{
	BEGIN;
	ALTER TABLE public.items ADD COLUMN p int;
	PREPARE TRANSACTION 'p';});
like($log, qr/held AccessExclusiveLock on public\.items for \d+\.\d s \(until PREPARE TRANSACTION\)/,
	'PREPARE TRANSACTION ends the hold in this session');
$node->safe_psql('postgres', q{ROLLBACK PREPARED 'p'});

($log) = log_of(q{
	BEGIN;
	LOCK TABLE public.orders IN SHARE UPDATE EXCLUSIVE MODE;
	CREATE TABLE public.fresh (id int);
	ALTER TABLE public.fresh ADD COLUMN x int;
	UPDATE public.orders SET id = 1;
	COMMIT;});
unlike($log, qr/this transaction held/,
	'nothing for a lock that lets writes go on, or a table created in the transaction');

$node->stop;
done_testing();
