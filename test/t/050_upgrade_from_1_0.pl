# ALTER EXTENSION migguard UPDATE from 1.0 gives what a fresh 1.1 install gives.
#
# Two databases of one cluster: "fresh" runs CREATE EXTENSION migguard (the
# default version, 1.1, from migguard--1.1.sql); "upgraded" runs CREATE
# EXTENSION migguard VERSION '1.0', is used (DDL audited, a blocked attempt
# recorded) while its catalog is still 1.0 and the 1.1 library is loaded, and
# then runs ALTER EXTENSION migguard UPDATE (migguard--1.0--1.1.sql).
#
# The comparison is generic: it lists every object of the extension and of
# schema migguard by name from the catalogs (functions with their signature,
# attributes, configuration, body, ACL and comment; relations, columns,
# defaults, identity, constraints, indexes, views' definitions, triggers,
# policies, ACLs and comments; event triggers; pg_extension_config_dump
# settings; pg_init_privs; extension membership), so an object any section of
# migguard--1.1.sql adds and migguard--1.0--1.1.sql forgets (or writes
# differently) makes the listings differ, and the test prints the difference.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('upgrade');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'migguard'
migguard.large_table_size = '64kB'
});
$node->start;

# Every line names the object by schema-qualified name, never by OID, so the
# listings of two databases compare as text.
my $listing = q{
WITH ext AS (SELECT oid FROM pg_extension WHERE extname = 'migguard'),
member AS (
	SELECT d.classid, d.objid, d.objsubid
	FROM pg_depend d, ext
	WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'
),
lines(l) AS (
	SELECT 'extension ' || e.extname || ' version ' || e.extversion || ' schema ' || e.extnamespace::regnamespace
		|| ' relocatable ' || e.extrelocatable
		|| ' config ' || coalesce((SELECT string_agg(c::regclass::text, ',' ORDER BY c::regclass::text) FROM unnest(e.extconfig) c), '-')
		|| ' condition ' || coalesce(array_to_string(e.extcondition, '|'), '-')
	FROM pg_extension e WHERE e.extname = 'migguard'
UNION ALL
	SELECT 'member ' || pg_describe_object(classid, objid, objsubid) FROM member
UNION ALL
	SELECT 'schema ' || n.nspname || ' owner ' || n.nspowner::regrole || ' acl ' || coalesce(n.nspacl::text, '-')
		|| ' comment ' || coalesce(obj_description(n.oid, 'pg_namespace'), '-')
	FROM pg_namespace n WHERE n.nspname = 'migguard'
UNION ALL
	SELECT 'function ' || p.oid::regprocedure || ' returns ' || pg_get_function_result(p.oid)
		|| ' args ' || pg_get_function_arguments(p.oid)
		|| ' kind ' || p.prokind::text || ' lang ' || l.lanname || ' volatile ' || p.provolatile::text
		|| ' strict ' || p.proisstrict || ' secdef ' || p.prosecdef || ' leakproof ' || p.proleakproof
		|| ' parallel ' || p.proparallel::text || ' cost ' || p.procost || ' rows ' || p.prorows
		|| ' owner ' || p.proowner::regrole
		|| ' config ' || coalesce(array_to_string(p.proconfig, ','), '-')
		|| ' acl ' || coalesce(p.proacl::text, '-')
		|| ' comment ' || coalesce(obj_description(p.oid, 'pg_proc'), '-')
		|| ' bin ' || coalesce(p.probin, '-')
		|| ' src ' || md5(p.prosrc)
	FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
	WHERE p.pronamespace = 'migguard'::regnamespace
UNION ALL
	SELECT 'relation ' || c.oid::regclass || ' kind ' || c.relkind::text || ' persistence ' || c.relpersistence::text
		|| ' owner ' || c.relowner::regrole
		|| ' options ' || coalesce(array_to_string(c.reloptions, ','), '-')
		|| ' rls ' || c.relrowsecurity || '/' || c.relforcerowsecurity
		|| ' replident ' || c.relreplident::text
		|| ' acl ' || coalesce(c.relacl::text, '-')
		|| ' comment ' || coalesce(obj_description(c.oid, 'pg_class'), '-')
	FROM pg_class c WHERE c.relnamespace = 'migguard'::regnamespace
UNION ALL
	SELECT 'column ' || a.attrelid::regclass || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
		|| ' position ' || a.attnum || ' notnull ' || a.attnotnull
		|| ' default ' || coalesce(pg_get_expr(ad.adbin, ad.adrelid), '-')
		|| ' identity ' || coalesce(nullif(a.attidentity::text, ''), '-') || ' generated ' || coalesce(nullif(a.attgenerated::text, ''), '-')
		|| ' collation ' || coalesce(nullif(a.attcollation, 0)::regcollation::text, '-')
		|| ' storage ' || a.attstorage::text || ' compression ' || coalesce(nullif(a.attcompression::text, ''), '-')
		|| ' acl ' || coalesce(a.attacl::text, '-')
		|| ' comment ' || coalesce(col_description(a.attrelid, a.attnum), '-')
	FROM pg_attribute a
	JOIN pg_class c ON c.oid = a.attrelid
	LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
	WHERE c.relnamespace = 'migguard'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
	SELECT 'sequence ' || s.seqrelid::regclass || ' ' || format_type(s.seqtypid, NULL)
		|| ' start ' || s.seqstart || ' increment ' || s.seqincrement || ' min ' || s.seqmin
		|| ' max ' || s.seqmax || ' cache ' || s.seqcache || ' cycle ' || s.seqcycle
		|| ' owned by ' || coalesce((SELECT d.refobjid::regclass || '.' || d.refobjsubid FROM pg_depend d
			WHERE d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid AND d.refclassid = 'pg_class'::regclass
			AND d.deptype IN ('a', 'i')), '-')
	FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid
	WHERE c.relnamespace = 'migguard'::regnamespace
UNION ALL
	SELECT 'constraint ' || co.conrelid::regclass || ' ' || co.conname || ' ' || pg_get_constraintdef(co.oid)
		|| ' comment ' || coalesce(obj_description(co.oid, 'pg_constraint'), '-')
	FROM pg_constraint co WHERE co.connamespace = 'migguard'::regnamespace
UNION ALL
	SELECT 'index ' || pg_get_indexdef(i.indexrelid)
	FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
	WHERE c.relnamespace = 'migguard'::regnamespace
UNION ALL
	SELECT 'view ' || c.oid::regclass || ' ' || pg_get_viewdef(c.oid)
	FROM pg_class c WHERE c.relnamespace = 'migguard'::regnamespace AND c.relkind IN ('v', 'm')
UNION ALL
	SELECT 'trigger ' || t.tgrelid::regclass || ' ' || pg_get_triggerdef(t.oid) || ' enabled ' || t.tgenabled::text
	FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
	WHERE c.relnamespace = 'migguard'::regnamespace AND NOT t.tgisinternal
UNION ALL
	SELECT 'policy ' || po.polrelid::regclass || ' ' || po.polname || ' ' || po.polcmd::text || ' ' || po.polpermissive
		|| ' roles ' || po.polroles::regrole[]::text
		|| ' using ' || coalesce(pg_get_expr(po.polqual, po.polrelid), '-')
		|| ' check ' || coalesce(pg_get_expr(po.polwithcheck, po.polrelid), '-')
	FROM pg_policy po JOIN pg_class c ON c.oid = po.polrelid
	WHERE c.relnamespace = 'migguard'::regnamespace
UNION ALL
	SELECT 'rule ' || pg_get_ruledef(r.oid)
	FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
	WHERE c.relnamespace = 'migguard'::regnamespace AND r.rulename <> '_RETURN'
UNION ALL
	SELECT 'type ' || t.oid::regtype || ' kind ' || t.typtype::text
		|| ' acl ' || coalesce(t.typacl::text, '-')
		|| ' comment ' || coalesce(obj_description(t.oid, 'pg_type'), '-')
	FROM pg_type t WHERE t.typnamespace = 'migguard'::regnamespace
UNION ALL
	SELECT 'event trigger ' || et.evtname || ' on ' || et.evtevent || ' executes ' || et.evtfoid::regprocedure
		|| ' enabled ' || et.evtenabled::text || ' owner ' || et.evtowner::regrole
		|| ' tags ' || coalesce(array_to_string(et.evttags, ','), '-')
		|| ' comment ' || coalesce(obj_description(et.oid, 'pg_event_trigger'), '-')
	FROM pg_event_trigger et
UNION ALL
	SELECT 'init privs ' || pg_describe_object(ip.classoid, ip.objoid, ip.objsubid)
		|| ' ' || ip.privtype::text || ' ' || ip.initprivs::text
	FROM pg_init_privs ip JOIN member m
		ON m.classid = ip.classoid AND m.objid = ip.objoid AND ip.objsubid IN (0, m.objsubid)
UNION ALL
	SELECT 'default acl ' || da.defaclrole::regrole || ' ' || da.defaclobjtype::text || ' ' || da.defaclacl::text
	FROM pg_default_acl da WHERE da.defaclnamespace = 'migguard'::regnamespace
)
SELECT string_agg(l, E'\n' ORDER BY l COLLATE "C") FROM lines
};

$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('postgres', 'CREATE DATABASE upgraded');
$node->safe_psql('fresh', 'CREATE EXTENSION migguard');
is($node->safe_psql('fresh', q{SELECT extversion FROM pg_extension WHERE extname = 'migguard'}),
	'1.1', 'a plain CREATE EXTENSION installs 1.1');

$node->safe_psql('upgraded', q{CREATE EXTENSION migguard VERSION '1.0'});
is($node->safe_psql('upgraded', q{SELECT extversion FROM pg_extension WHERE extname = 'migguard'}),
	'1.0', 'CREATE EXTENSION migguard VERSION 1.0 installs the released 1.0 script');

# The 1.1 library on a 1.0 catalog (a server upgraded in place before ALTER
# EXTENSION): DDL is audited and a blocked attempt is recorded.
my ($rc, $stdout, $stderr) = $node->psql('upgraded', q{
	SET migguard.tag = 'on_1_0';
	CREATE TABLE accounts (id bigint PRIMARY KEY, email text);
	INSERT INTO accounts SELECT g, 'user' || g FROM generate_series(1, 5000) g;
	CREATE INDEX CONCURRENTLY accounts_email_idx ON accounts (email);
	ALTER TABLE accounts ADD COLUMN note text;
});
is($rc, 0, 'DDL on a 1.0 catalog with the 1.1 library runs') or diag($stderr);
unlike($stderr, qr/WARNING|ERROR/, 'and the audit raises no warning on the 1.0 catalog');
($rc, $stdout, $stderr) = $node->psql('upgraded', q{
	SET migguard.tag = 'on_1_0';
	CREATE INDEX accounts_note_idx ON accounts (note);
});
like($stderr, qr/ERROR:  CREATE INDEX on "public\.accounts"/,
	'a blocking CREATE INDEX on the large table is blocked on a 1.0 catalog');
ok($node->poll_query_until('upgraded', q{
	SELECT count(*) = 1 FROM migguard.change_log WHERE verdict = 'blocked' AND tag = 'on_1_0'}),
	'the blocked attempt is recorded in the 1.0 change_log');
is($node->safe_psql('upgraded', q{
	SELECT string_agg(command_tag, ',' ORDER BY id) FROM migguard.change_log
	WHERE tag = 'on_1_0' AND verdict <> 'blocked'}),
	'CREATE TABLE,CREATE INDEX,ALTER TABLE',
	'the DDL run on the 1.0 catalog is recorded in change_log');

my $rows_sql = q{
	SELECT string_agg(id || ':' || logged_at || ':' || command_tag || ':' || statement || ':' || verdict
		|| ':' || coalesce(tag, '-') || ':' || objects::text, E'\n' ORDER BY id)
	FROM migguard.change_log WHERE id <= %s};
my $last_id = $node->safe_psql('upgraded', 'SELECT max(id) FROM migguard.change_log');
$rows_sql = sprintf($rows_sql, $last_id);
my $rows_before = $node->safe_psql('upgraded', $rows_sql);

$node->safe_psql('upgraded', 'ALTER EXTENSION migguard UPDATE');
is($node->safe_psql('upgraded', q{SELECT extversion FROM pg_extension WHERE extname = 'migguard'}),
	'1.1', 'ALTER EXTENSION migguard UPDATE goes from 1.0 to 1.1');

my $fresh = $node->safe_psql('fresh', $listing);
my $upgraded = $node->safe_psql('upgraded', $listing);
ok(length($fresh) > 0 && $fresh =~ /^event trigger migguard_ddl_command_end/m,
	'the catalog listing of a fresh 1.1 install names the event triggers');
if (!is($upgraded, $fresh,
	'the updated 1.0 install has the same objects, attributes, grants, comments, event triggers and config-dump settings as a fresh 1.1 install'))
{
	my %f = map { $_ => 1 } split /\n/, $fresh;
	my %u = map { $_ => 1 } split /\n/, $upgraded;
	diag("only in the fresh 1.1 install:    $_") for grep { !$u{$_} } sort keys %f;
	diag("only in the updated 1.0 install:  $_") for grep { !$f{$_} } sort keys %u;
}

# What a fresh 1.1 install's listing must show at least, so that the
# comparison is not vacuous (an empty or broken listing on both sides).
for my $expected (
	qr/^function migguard\."check"\(text\) .* acl \{[^}]*=X\//m,
	qr/^relation migguard\.change_log kind r .* acl \{[^}]*migguard_reader=r\//m,
	qr/^column migguard\.change_log\.id bigint .* identity [ad] /m,
	qr/^extension migguard version 1\.1 .* config \S*\bmigguard\.change_log\b/m,
	qr/^init privs /m)
{
	like($fresh, $expected, "the fresh listing has a line matching $expected");
}

is($node->safe_psql('upgraded', $rows_sql), $rows_before,
	'every change_log row survives the update unchanged');
is($node->safe_psql('upgraded', q{
	SELECT string_agg(statement, ',') FROM migguard.change_log WHERE id > } . $last_id),
	'ALTER EXTENSION migguard UPDATE', 'the update itself is recorded, after the rows of 1.0');
$node->safe_psql('upgraded', q{SET migguard.tag = 'on_1_1'; ALTER TABLE accounts ADD COLUMN flag boolean});
is($node->safe_psql('upgraded', q{
	SELECT id > } . $last_id . q{ FROM migguard.change_log WHERE tag = 'on_1_1'}),
	't', 'a row recorded after the update continues the identity');

$node->stop;
done_testing();
