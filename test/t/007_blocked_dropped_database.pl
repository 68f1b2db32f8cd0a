# The blocked-attempt worker and a dropped database (issue 12, item 11):
# records queued for a database that is dropped before a worker could
# write them each get a "not recorded" line in the server log and leave
# the queue, and the other databases keep getting their rows.
#
# max_worker_processes = 3 leaves room for two migguard workers next to the
# logical replication launcher.  Two workers kept busy (their database's
# change_log locked) make the third database's attempt wait in the queue
# with no worker; that database is then dropped.  The next attempt anywhere
# starts a worker for the waiting records, which cannot connect to the
# dropped database and names them.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);

my $node = PostgreSQL::Test::Cluster->new('blocked_dropped_db');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'migguard'
max_worker_processes = 3
max_parallel_workers_per_gather = 0
migguard.large_table_size = '8kB'
migguard.mode = enforce
migguard.lock_timeout = '300ms'
});
$node->start;

for my $db ('postgres', 'other', 'gone')
{
	$node->safe_psql('postgres', "CREATE DATABASE $db") if $db ne 'postgres';
	$node->safe_psql($db, q{
		CREATE EXTENSION migguard;
		CREATE TABLE t (id int);
		INSERT INTO t SELECT generate_series(1, 5000);});
}

sub blocked_rows
{
	my ($db) = @_;
	return $node->safe_psql($db,
		q{SELECT count(*) FROM migguard.change_log WHERE verdict = 'blocked'});
}

sub wait_for
{
	my ($cond) = @_;
	for (1 .. 150)
	{
		return 1 if $cond->();
		sleep 0.1;
	}
	return 0;
}

sub workers
{
	return $node->safe_psql('postgres',
		q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'migguard blocked-attempt writer'});
}

# Two workers that wait for their database's change_log.
my %holder;
for my $db ('postgres', 'other')
{
	$holder{$db} = $node->background_psql($db, on_error_stop => 0);
	$holder{$db}->query_safe('BEGIN; LOCK migguard.change_log IN SHARE MODE;');
	my ($rc, $out, $err) = $node->psql($db, "CREATE INDEX ON t (id) /* $db */");
	like($err, qr/MG001|CREATE INDEX/, "the attempt in $db is blocked");
}
ok(wait_for(sub { workers() == 2 }), 'two workers wait for their change_log');

# No worker can start for the third database: its record waits in the queue.
my ($rc, $out, $err) = $node->psql('gone', 'CREATE INDEX ON t (id) /* gone */');
isnt($rc, 0, 'the attempt in gone is blocked');
ok( wait_for(sub {
			slurp_file($node->logfile) =~
			  /no background worker could start to record blocked attempts; queued until one can: CREATE INDEX ON t \(id\) \/\* gone \*\//;
		}),
	'its record is queued without a worker');

($rc, $out, $err) = $node->psql('postgres', 'DROP DATABASE gone');
is($rc, 0, 'the database is dropped with its record still queued');

$holder{$_}->query_safe('COMMIT') for keys %holder;
$holder{$_}->quit for keys %holder;
ok(wait_for(sub { blocked_rows('postgres') == 1 && blocked_rows('other') == 1 }),
	'the two other databases get their rows');

# Every attempt from now on starts a worker for records left waiting.
($rc, $out, $err) = $node->psql('postgres', 'CREATE INDEX ON t (id) /* again */');
ok(wait_for(sub { blocked_rows('postgres') == 2 }), 'and keep getting them');
my $notrecorded =
  qr/migguard: not recorded in change_log \([^)]*\): CREATE INDEX ON t \(id\) \/\* gone \*\//;
ok(wait_for(sub { slurp_file($node->logfile) =~ $notrecorded }),
	'the dropped database\'s record gets a "not recorded" line');

# It left the queue: later workers do not name it again.
($rc, $out, $err) = $node->psql('other', 'CREATE INDEX ON t (id) /* later */');
ok(wait_for(sub { blocked_rows('other') == 2 }), 'a later attempt is written');
ok(wait_for(sub { workers() == 0 }), 'and the workers leave');
my $lines = () = slurp_file($node->logfile) =~ /$notrecorded/g;
is($lines, 1, 'the record was named once and left the queue');

$node->stop;
done_testing();
