# The README's rule table is the catalog's.
#
# Proves that every row between the rules:begin and rules:end markers of
# README.md is exactly what migguard.rules() returns (name, category,
# default level, description, in catalog order), so the documentation
# cannot drift from src/rules.c.
use strict;
use warnings;
use FindBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $readme = "$FindBin::Bin/../../README.md";
open(my $fh, '<', $readme) or die "cannot open $readme: $!";
my $text = do { local $/; <$fh> };
close($fh);

my ($block) = $text =~ /<!-- rules:begin -->\n(.*?)<!-- rules:end -->/s;
ok(defined $block, 'README.md has a rule table between the markers');
my @documented = grep { /^\| `/ } split /\n/, ($block // '');

my $node = PostgreSQL::Test::Cluster->new('readme');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'migguard'");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION migguard');
my @catalog = split /\n/, $node->safe_psql('postgres', q{
	SELECT '| `' || rule || '` | ' || category || ' | ' || default_level
	       || ' | ' || description || ' |'
	FROM migguard.rules()});

is(scalar(@documented), scalar(@catalog),
	'the README lists as many rules as the catalog');
is_deeply(\@documented, \@catalog,
	'each README row matches migguard.rules(), in catalog order');

done_testing();
