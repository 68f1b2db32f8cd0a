/*-------------------------------------------------------------------------
 *
 * facts.c
 *		Building the facts of one statement: an empty MigguardStatement of
 *		an analysis, its ops (migguard_add_op) and lock facts
 *		(migguard_add_lock), and the lookups that classify.c and its parts
 *		stmtkind.c and hazards.c share.  It sits below all of them, so that
 *		they call down into it and never into each other's callers.
 *
 *-------------------------------------------------------------------------
 */
#include "facts.h"

#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_depend.h"
#include "commands/defrem.h"
#include "utils/fmgroids.h"

/*
 * Was a relation of this name created earlier in the checked script?  A
 * dry run (migguard.check()) lists them in its analysis context: they
 * count as new.
 */
bool
migguard_created_in_script(const MigguardAnalysis *cx, RangeVar *rv)
{
	ListCell   *lc;

	if (!cx->dry_run)
		return false;
	foreach(lc, cx->script_relations)
	{
		RangeVar   *created = (RangeVar *) lfirst(lc);

		if (strcmp(created->relname, rv->relname) == 0 &&
			(created->schemaname == NULL || rv->schemaname == NULL ||
			 strcmp(created->schemaname, rv->schemaname) == 0))
			return true;
	}
	return false;
}

/*
 * Resolve a RangeVar as PostgreSQL will, without a lock.  InvalidOid when it
 * does not exist (PostgreSQL then reports that itself).
 */
Oid
migguard_lookup_relid(const MigguardAnalysis *cx, RangeVar *rv)
{
	if (rv == NULL)
		return InvalidOid;
	/* New in the script: as invisible to rules as a table new in the xact. */
	if (cx->dry_run && migguard_created_in_script(cx, rv))
		return InvalidOid;
	return RangeVarGetRelid(rv, NoLock, true);
}

/*
 * The pg_depend rows of the objects that depend on an object, or on its
 * sub-object (a column) refobjsubid when that is not 0: the scan of
 * findDependentObjects' second loop (dependency.c).  The caller opened
 * pg_depend and ends the scan.
 */
SysScanDesc
migguard_dependents_scan(Relation depend, Oid refclassid, Oid refobjid,
						 int32 refobjsubid)
{
	ScanKeyData key[3];

	ScanKeyInit(&key[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(refclassid));
	ScanKeyInit(&key[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(refobjid));
	ScanKeyInit(&key[2], Anum_pg_depend_refobjsubid, BTEqualStrategyNumber,
				F_INT4EQ, Int32GetDatum(refobjsubid));
	return systable_beginscan(depend, DependReferenceIndexId, true, NULL,
							  refobjsubid != 0 ? 3 : 2, key);
}

MigguardOp *
migguard_add_op(MigguardStatement *stmt, MigguardOpKind kind, LOCKMODE lockmode,
				MigguardRelation *rel)
{
	MigguardOp *op = palloc0(sizeof(MigguardOp));

	op->kind = kind;
	op->lockmode = lockmode;
	op->rel = rel;
	stmt->ops = lappend(stmt->ops, op);
	return op;
}

/*
 * A lock fact (MG_OP_OTHER_LOCK): the statement locks rel in lockmode.  One
 * op per relation, with the strongest mode the statement takes there.
 */
void
migguard_add_lock(MigguardStatement *stmt, MigguardRelation *rel, LOCKMODE lockmode)
{
	ListCell   *lc;

	if (rel == NULL || !OidIsValid(rel->relid) || lockmode == NoLock)
		return;
	foreach(lc, stmt->ops)
	{
		MigguardOp *op = (MigguardOp *) lfirst(lc);

		if (op->kind == MG_OP_OTHER_LOCK && op->rel->relid == rel->relid)
		{
			op->lockmode = Max(op->lockmode, lockmode);
			return;
		}
	}
	migguard_add_op(stmt, MG_OP_OTHER_LOCK, lockmode, rel);
}

/* Whether a boolean option such as FULL or CONCURRENTLY is on. */
bool
migguard_defelem_is_true(List *options, const char *name)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *opt = lfirst_node(DefElem, lc);

		if (strcmp(opt->defname, name) == 0)
			return opt->arg == NULL ? true : defGetBoolean(opt);
	}
	return false;
}

/* The privileges LOCK TABLE needs for a mode (LockTableAclCheck, lockcmds.c). */
AclMode
migguard_lock_table_aclmask(LOCKMODE mode)
{
	AclMode		any_mode = ACL_UPDATE | ACL_DELETE | ACL_TRUNCATE | MG_ACL_MAINTAIN;

	if (MG_LOCK_TABLE_ACL_BY_LEVEL)
		return any_mode |
			(mode <= AccessShareLock ? ACL_SELECT : 0) |
			(mode <= RowExclusiveLock ? ACL_INSERT : 0);
	if (mode == AccessShareLock)
		return ACL_SELECT;
	if (mode == RowExclusiveLock)
		return ACL_INSERT | any_mode;
	return any_mode;
}

/*
 * An empty statement of this analysis, for facts that come from an event
 * rather than a parse tree (the table_rewrite trigger, holds.c), and for
 * migguard_classify.  The probes of the previous statement say nothing
 * about this one.
 */
MigguardStatement *
migguard_new_statement(MigguardAnalysis *cx, const char *text,
					   const char *command_tag)
{
	MigguardStatement *stmt = palloc0(sizeof(MigguardStatement));

	cx->probed_relids = NIL;
	stmt->analysis = cx;
	stmt->text = text;
	stmt->command_tag = command_tag;
	return stmt;
}

