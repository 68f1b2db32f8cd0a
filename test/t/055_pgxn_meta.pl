# The PGXN META.json is valid (scripts/pgxn-meta-check.py, the rules of the
# PGXN Meta Spec 1.0.0) and provides the control file's default_version; the
# validator rejects a broken copy, so a passing run means something.
use strict;
use warnings;
use File::Temp qw(tempdir);
use PostgreSQL::Test::Utils;
use Test::More;

my $root = "$ENV{TESTDIR}/..";
my $check = "$root/scripts/pgxn-meta-check.py";

command_ok([ 'python3', $check, "$root/META.json", "$root/migguard.control" ],
	'META.json follows the PGXN Meta Spec and provides the control file\'s default_version');

open my $in, '<', "$root/META.json" or die "META.json: $!";
my $meta = do { local $/; <$in> };
close $in;
(my $broken = $meta) =~ s/"license": "postgresql"/"license": "postgres"/;
$broken =~ s/"version": "1\.0\.0"/"version": "1.0"/;
my $dir = tempdir(CLEANUP => 1);
open my $out, '>', "$dir/META.json" or die "$dir/META.json: $!";
print $out $broken;
close $out;
command_fails_like([ 'python3', $check, "$dir/META.json" ],
	qr/license 'postgres' is not one the spec names.*meta-spec\.version must be "1\.0\.0"/s,
	'the validator names an unknown license and a wrong meta-spec version');

done_testing();
