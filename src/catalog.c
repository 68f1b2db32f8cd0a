/*-------------------------------------------------------------------------
 *
 * catalog.c
 *		The extension's own objects in the catalog: its member tables
 *		(change_log, approved_findings) and its schema.
 *
 * Every table migguard reads or writes as another role is found as a
 * member of extension migguard (pg_depend deptype 'e'), by OID, never by a
 * name a user could have created first.  The install script's first call,
 * migguard_refuse_adopted_schema, refuses a schema migguard another role
 * prepared.  The writer (audit.c), the worker (blocked.c), the approvals
 * (approvals.c) and the hash chain (chain.c) use these lookups.
 *
 *-------------------------------------------------------------------------
 */
#include "catalog.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "commands/extension.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

/*
 * migguard.change_log, once found, and its owner.  Any invalidation of that
 * relation (DROP EXTENSION, RENAME, ALTER ... OWNER, a rolled-back CREATE
 * EXTENSION) forgets it, so the pg_depend scan runs once per backend
 * instead of once per DDL statement.
 */
static Oid	known_change_log = InvalidOid;
static Oid	known_change_log_owner = InvalidOid;
static bool warned_no_change_log = false;

static void
forget_change_log(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == known_change_log)
		known_change_log = InvalidOid;
}

/* The pg_depend rows of the objects that depend on one object. */
static SysScanDesc
depend_scan(Relation depend, Oid refclassid, Oid refobjid)
{
	ScanKeyData key[2];

	ScanKeyInit(&key[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(refclassid));
	ScanKeyInit(&key[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(refobjid));
	return systable_beginscan(depend, DependReferenceIndexId, true, NULL, 2, key);
}

/*
 * The ordinary table named change_log that is a member of the extension
 * (pg_depend deptype 'e', as findDependentObjects reads membership), in
 * whatever schema it is now.  A look-alike that merely has the name is not
 * a member, and only a superuser can make it one.
 */
static Oid extension_member_table(Oid extoid, const char *relname);

static Oid
extension_member_change_log(Oid extoid)
{
	return extension_member_table(extoid, "change_log");
}

/*
 * A table of extension migguard by name (change_log, approved_findings),
 * found as a member of the extension; InvalidOid when there is none.
 */
Oid
migguard_extension_table(const char *relname)
{
	Oid			extoid = get_extension_oid("migguard", true);

	return OidIsValid(extoid) ? extension_member_table(extoid, relname) : InvalidOid;
}

static Oid
extension_member_table(Oid extoid, const char *relname)
{
	Relation	depend;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			found = InvalidOid;

	depend = table_open(DependRelationId, AccessShareLock);
	scan = depend_scan(depend, ExtensionRelationId, extoid);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);
		char	   *name;

		if (dep->classid != RelationRelationId ||
			dep->deptype != DEPENDENCY_EXTENSION ||
			get_rel_relkind(dep->objid) != RELKIND_RELATION)
			continue;
		name = get_rel_name(dep->objid);
		if (name != NULL && strcmp(name, relname) == 0)
		{
			found = dep->objid;
			break;
		}
	}
	systable_endscan(scan);
	table_close(depend, AccessShareLock);
	return found;
}

/*
 * The OID of the extension's change_log and its owner, who writes the rows;
 * InvalidOid when there is none in this database.  When the extension
 * exists but its change_log was renamed, dropped or taken out of it, the
 * audit is off, and the first statement of the session says so.
 */
Oid
migguard_change_log(Oid *owner)
{
	static bool callback_registered = false;
	Oid			extoid;
	Oid			relid;
	HeapTuple	tup;

	if (OidIsValid(known_change_log))
	{
		*owner = known_change_log_owner;
		return known_change_log;
	}
	extoid = get_extension_oid("migguard", true);
	if (!OidIsValid(extoid))
		return InvalidOid;
	relid = extension_member_change_log(extoid);
	if (!OidIsValid(relid))
	{
		if (!warned_no_change_log)
			ereport(WARNING,
					(errmsg("migguard: schema changes are not recorded: extension migguard has no table change_log"),
					 errdetail("The table was renamed, dropped or removed from the extension."),
					 errhint("Rename it back, or drop and create the extension again.")));
		warned_no_change_log = true;
		return InvalidOid;
	}
	warned_no_change_log = false;

	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(forget_change_log, (Datum) 0);
		callback_registered = true;
	}
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		return InvalidOid;
	known_change_log_owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	known_change_log = relid;
	*owner = known_change_log_owner;
	return relid;
}

PG_FUNCTION_INFO_V1(migguard_refuse_adopted_schema);

/* Whether anything lives in the schema: every object depends on its schema. */
static bool
schema_is_empty(Oid nspid, Oid self)
{
	Relation	depend;
	SysScanDesc scan;
	HeapTuple	tup;
	bool		empty;

	depend = table_open(DependRelationId, AccessShareLock);
	scan = depend_scan(depend, NamespaceRelationId, nspid);
	empty = true;
	while (empty && HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);

		/* The extension being created, and this function, are there already. */
		empty = (dep->classid == ExtensionRelationId &&
				 dep->objid == CurrentExtensionObject) ||
			(dep->classid == ProcedureRelationId && dep->objid == self);
	}
	systable_endscan(scan);
	table_close(depend, AccessShareLock);
	return empty;
}

/*
 * Called by the install script, first thing: schema migguard must not be
 * one another role prepared.  PostgreSQL 15 adopts an existing schema named
 * by the control file (CreateExtensionInternal only creates it when
 * get_namespace_oid finds none), so a database owner could otherwise
 * prepare it, own it, and later rename it and plant a look-alike
 * change_log.  Accepted: the schema CREATE EXTENSION just made (its
 * pg_namespace row inserted by this transaction, owned by the user creating
 * the extension), or an empty schema a superuser owns, which is what
 * pg_restore creates before it replays CREATE EXTENSION (the schema is not
 * a member of the extension, so pg_dump dumps it separately).
 */
Datum
migguard_refuse_adopted_schema(PG_FUNCTION_ARGS)
{
	Oid			nspid = get_namespace_oid("migguard", false);
	HeapTuple	tup;
	Oid			owner;
	bool		ours;

	if (!creating_extension)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("migguard.refuse_adopted_schema() may only be called by CREATE EXTENSION migguard")));
	tup = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(nspid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for namespace %u", nspid);
	owner = ((Form_pg_namespace) GETSTRUCT(tup))->nspowner;
	ours = (TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(tup->t_data)) &&
			owner == GetUserId()) ||
		(superuser_arg(owner) && schema_is_empty(nspid, fcinfo->flinfo->fn_oid));
	ReleaseSysCache(tup);
	if (!ours)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_SCHEMA),
				 errmsg("schema \"migguard\" already exists"),
				 errdetail("CREATE EXTENSION migguard creates its own schema; it adopts only an empty one that a superuser owns, not one that another role could have prepared."),
				 errhint("Check what the existing schema \"migguard\" holds, drop or rename it, and create the extension again.")));
	PG_RETURN_VOID();
}
