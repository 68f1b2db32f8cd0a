/*-------------------------------------------------------------------------
 *
 * stmtkind.c
 *		The one table of DDL statement kinds migguard looks at.  For each
 *		kind: what it locks, on which relations (including the indirect
 *		ones: foreign-key partner, partition parent, children and default
 *		partition, domain users, the index of ALTER INDEX, a view's base
 *		tables, typed tables, identity sequences, and what a DROP takes with
 *		it through pg_depend), whether it runs inside the current
 *		transaction, and the PostgreSQL function that decides it.
 *
 * The hook (migguard_is_checked_statement), check(), the lock guard
 * (lockguard.c) and the audit (lock_mode, through the lock facts) all read
 * this table.  classify.c names the locks that its ops already imply (the
 * table an ALTER TABLE changes, the one a DROP drops, ...); the functions
 * here add the locks no op names, as MG_OP_OTHER_LOCK facts, after
 * classify.c's, so a statement's named relation comes first, as it does in
 * PostgreSQL.
 *
 * Only relations the current user may change that way are named, with the
 * permission test PostgreSQL applies first; for everyone else the
 * statement still gets the lock timeout (every DDL statement does), but
 * migguard takes no lock ahead of it.
 *
 * A DDL kind this table does not know still gets migguard.lock_timeout
 * (lockguard.c), run as a statement that may commit internally: never
 * silently unprotected, and never with locks taken ahead of it.
 *
 *-------------------------------------------------------------------------
 */
#include "stmtkind.h"
#include "facts.h"
#include "relsize.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/reloptions.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/index.h"
#include "catalog/catalog.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_attrdef.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_policy.h"
#include "catalog/pg_rewrite.h"
#include "catalog/pg_tablespace.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "commands/tablespace.h"
#include "commands/policy.h"
#include "commands/tablecmds.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "parser/parse_type.h"
#include "partitioning/partdesc.h"
#include "rewrite/rewriteSupport.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

typedef bool (*RunsInTransaction) (Node *parsetree);
typedef void (*KindLocks) (MigguardStatement *stmt, Node *parsetree);

typedef struct StmtKind
{
	NodeTag		tag;
	const char *locks;			/* what it locks, for the reader */
	RunsInTransaction in_transaction;	/* NULL: always */
	KindLocks	kind_locks;		/* locks no op of classify.c names */
} StmtKind;

static bool index_in_transaction(Node *parsetree);
static bool drop_in_transaction(Node *parsetree);
static bool reindex_in_transaction(Node *parsetree);
static bool alter_table_in_transaction(Node *parsetree);
static bool vacuum_in_transaction(Node *parsetree);
static bool cluster_in_transaction(Node *parsetree);

static void create_locks(MigguardStatement *stmt, Node *parsetree);
static void drop_locks(MigguardStatement *stmt, Node *parsetree);
static void alter_table_locks(MigguardStatement *stmt, Node *parsetree);
static void rename_locks(MigguardStatement *stmt, Node *parsetree);
static void trigger_locks(MigguardStatement *stmt, Node *parsetree);
static void rule_locks(MigguardStatement *stmt, Node *parsetree);
static void policy_locks(MigguardStatement *stmt, Node *parsetree);
static void view_locks(MigguardStatement *stmt, Node *parsetree);
static void domain_locks(MigguardStatement *stmt, Node *parsetree);
static void sequence_locks(MigguardStatement *stmt, Node *parsetree);
static void index_locks(MigguardStatement *stmt, Node *parsetree);
static void reindex_locks(MigguardStatement *stmt, Node *parsetree);
static void maintenance_locks(MigguardStatement *stmt, Node *parsetree);
static void truncate_locks(MigguardStatement *stmt, Node *parsetree);
static void lock_table_locks(MigguardStatement *stmt, Node *parsetree);
static void move_all_locks(MigguardStatement *stmt, Node *parsetree);

/*
 * The table.  "in a block" is the PreventInTransactionBlock call that
 * makes a statement commit internally; such a statement gets the timeout
 * but no locks taken ahead of it.
 */
static const StmtKind stmt_kinds[] = {
	/* DefineIndex: SHARE, CONCURRENTLY SHARE UPDATE EXCLUSIVE and not in a
	 * block (ProcessUtilitySlow) */
	{T_IndexStmt, "table SHARE, and its partitions (DefineIndex recurses)",
	index_in_transaction, index_locks},
	/* RemoveRelations (RangeVarCallbackForDropRelation locks a partition's
	 * parent), heap_drop_with_catalog (parent and default partition),
	 * RemoveTriggerById / RemoveConstraintById (foreign-key partners),
	 * get_object_address_relobject (trigger, rule, policy: their table);
	 * DROP INDEX CONCURRENTLY not in a block (ExecDropStmt) */
	{T_DropStmt, "object ACCESS EXCLUSIVE, plus parent, default partition, FK partner",
	drop_in_transaction, drop_locks},
	/* ReindexIndex/ReindexTable: SHARE on the table, ACCESS EXCLUSIVE on
	 * the index; partitioned, SCHEMA/SYSTEM/DATABASE and CONCURRENTLY not
	 * in a block (ExecReindex, ReindexPartitions) */
	{T_ReindexStmt, "table SHARE, each index ACCESS EXCLUSIVE",
	reindex_in_transaction, reindex_locks},
	/* AlterTableGetLockLevel; ATExecAttachPartition / ATExecDetachPartition
	 * (default partition, the partition, referenced tables of the parent's
	 * foreign keys), ATExecAttachPartitionIdx (the attached index),
	 * ATExecDropConstraint and RemoveConstraintById (FK partner); DETACH
	 * CONCURRENTLY not in a block (ProcessUtilitySlow) */
	{T_AlterTableStmt, "AlterTableGetLockLevel, plus partitions and FK partners",
	alter_table_in_transaction, alter_table_locks},
	/* renameatt, RenameRelation, rename_constraint, renametrig,
	 * RenameRewriteRule, rename_policy */
	{T_RenameStmt, "ACCESS EXCLUSIVE", NULL, rename_locks},
	/* AlterTableNamespace */
	{T_AlterObjectSchemaStmt, "ACCESS EXCLUSIVE", NULL, NULL},
	/* vacuum(): VACUUM never in a block, ANALYZE may be; FULL ACCESS
	 * EXCLUSIVE (vacuum_rel) */
	{T_VacuumStmt, "FULL: ACCESS EXCLUSIVE, partitions too (expand_vacuum_rel)",
	vacuum_in_transaction, maintenance_locks},
	/* cluster(): ACCESS EXCLUSIVE; a partitioned table or no table is the
	 * multi-table case, not in a block */
	{T_MgClusterStmt, "ACCESS EXCLUSIVE, partitions too",
	cluster_in_transaction, maintenance_locks},
	/* ExecRefreshMatView: ACCESS EXCLUSIVE, CONCURRENTLY EXCLUSIVE */
	{T_RefreshMatViewStmt, "ACCESS EXCLUSIVE", NULL, NULL},
	/* ExecuteTruncate: partitions and inheritance children too */
	{T_TruncateStmt, "ACCESS EXCLUSIVE", NULL, truncate_locks},
	/* DefineRelation: PARTITION OF locks the parent and its default
	 * partition ACCESS EXCLUSIVE; a foreign key locks the referenced table
	 * SHARE ROW EXCLUSIVE (ATAddForeignKeyConstraint) */
	{T_CreateStmt, "partition parent ACCESS EXCLUSIVE, referenced table SHARE ROW EXCLUSIVE",
	NULL, create_locks},
	/* LockTableCommand: the requested mode, LockTableRecurse on the
	 * children; RequireTransactionBlock */
	{T_LockStmt, "the requested mode", NULL, lock_table_locks},
	/* CreateTriggerFiringOn: SHARE ROW EXCLUSIVE, on every partition too
	 * for a row trigger on a partitioned table */
	{T_CreateTrigStmt, "SHARE ROW EXCLUSIVE", NULL, trigger_locks},
	/* DefineRule / DefineQueryRewrite */
	{T_RuleStmt, "ACCESS EXCLUSIVE", NULL, rule_locks},
	/* CreatePolicy, AlterPolicy */
	{T_CreatePolicyStmt, "ACCESS EXCLUSIVE", NULL, policy_locks},
	{T_AlterPolicyStmt, "ACCESS EXCLUSIVE", NULL, policy_locks},
	/* DefineVirtualRelation: OR REPLACE of an existing view */
	{T_ViewStmt, "OR REPLACE: the view ACCESS EXCLUSIVE", NULL, view_locks},
	/* AlterDomainAddConstraint, AlterDomainValidateConstraint,
	 * AlterDomainNotNull: get_rels_with_domain locks every relation with a
	 * column of the domain SHARE */
	{T_AlterDomainStmt, "domain users SHARE", NULL, domain_locks},
	/* AlterSequence: SHARE ROW EXCLUSIVE (RangeVarCallbackOwnsRelation) */
	{T_AlterSeqStmt, "SHARE ROW EXCLUSIVE", NULL, sequence_locks},
	/* AlterTableMoveAll: each relation it moves ACCESS EXCLUSIVE */
	{T_AlterTableMoveAllStmt, "each relation moved ACCESS EXCLUSIVE",
	NULL, move_all_locks},
};

static const StmtKind *
find_kind(Node *parsetree)
{
	NodeTag		tag = nodeTag(parsetree);

	for (size_t i = 0; i < lengthof(stmt_kinds); i++)
		if (stmt_kinds[i].tag == tag)
			return &stmt_kinds[i];
	return NULL;
}

/* Whether the table knows the statement's kind (the hook's first test). */
bool
migguard_stmt_kind_known(Node *parsetree)
{
	return find_kind(parsetree) != NULL;
}

/*
 * Whether the statement runs entirely inside the current transaction, so
 * that its locks may be taken ahead of it and a GUC nest level survives it.
 * False for the kinds that call PreventInTransactionBlock, and for kinds
 * the table does not know.
 */
bool
migguard_stmt_runs_in_transaction(Node *parsetree)
{
	const StmtKind *kind = find_kind(parsetree);

	if (kind == NULL)
		return false;
	return kind->in_transaction == NULL || kind->in_transaction(parsetree);
}

/*
 * Whether the statement never runs inside the caller's transaction: a kind
 * of the table that calls PreventInTransactionBlock for this form, or one
 * of the statements outside the table that always do (the audit does not
 * lock change_log ahead of them, nor report them failed when its own
 * write fails: they have taken effect).  Unlike
 * migguard_stmt_runs_in_transaction, a kind nobody knows is not counted.
 */
bool
migguard_stmt_commits_internally(Node *parsetree)
{
	if (find_kind(parsetree) != NULL)
		return !migguard_stmt_runs_in_transaction(parsetree);
	switch (nodeTag(parsetree))
	{
			/* createdb, dropdb, AlterSystemSetConfigFile, CreateTableSpace,
			 * DropTableSpace, CreateSubscription, AlterSubscription,
			 * DropSubscription (ProcessUtility's PreventInTransactionBlock
			 * calls) */
		case T_CreatedbStmt:
		case T_DropdbStmt:
		case T_AlterSystemStmt:
		case T_CreateTableSpaceStmt:
		case T_DropTableSpaceStmt:
		case T_CreateSubscriptionStmt:
		case T_AlterSubscriptionStmt:
		case T_DropSubscriptionStmt:
			return true;
		default:
			return false;
	}
}

/*
 * CREATE INDEX CONCURRENTLY, REINDEX ... CONCURRENTLY and DROP INDEX
 * CONCURRENTLY: while they wait for other transactions (WaitForLockers,
 * WaitForOlderSnapshots in DefineIndex, ReindexRelationConcurrently and
 * index_drop) they hold only SHARE UPDATE EXCLUSIVE, which blocks no read
 * or write, and the ACCESS EXCLUSIVE lock the last two take at the very end
 * is on an index PostgreSQL has already marked dead (indislive = false:
 * RelationGetIndexList no longer returns it, so no query locks it).  They
 * queue nobody, so they get no lock timeout: it would only abort the safe
 * form migguard's own hints recommend, leaving an INVALID index behind,
 * whenever a long transaction is open.
 */
bool
migguard_stmt_waits_for_others_only(Node *parsetree)
{
	switch (nodeTag(parsetree))
	{
		case T_IndexStmt:
			return ((IndexStmt *) parsetree)->concurrent;
		case T_DropStmt:
			return ((DropStmt *) parsetree)->removeType == OBJECT_INDEX &&
				((DropStmt *) parsetree)->concurrent;
		case T_ReindexStmt:
			{
				ReindexStmt *reindex = (ReindexStmt *) parsetree;

				return MG_REINDEX_LEGACY_CONCURRENT(reindex) ||
					migguard_defelem_is_true(MG_REINDEX_OPTIONS(reindex),
											 "concurrently");
			}
		default:
			return false;
	}
}

/* The locks the kind takes that no op of classify.c names. */
void
migguard_classify_kind_locks(MigguardStatement *stmt, Node *parsetree)
{
	const StmtKind *kind = find_kind(parsetree);

	if (kind != NULL && kind->kind_locks != NULL)
		kind->kind_locks(stmt, parsetree);
}

/* ----------------------------------------------------------------
 * In a transaction block?
 * ----------------------------------------------------------------
 */

static bool
index_in_transaction(Node *parsetree)
{
	return !((IndexStmt *) parsetree)->concurrent;
}

static bool
drop_in_transaction(Node *parsetree)
{
	return !((DropStmt *) parsetree)->concurrent;
}

/* ReindexPartitions commits per partition. */
static bool
reindex_in_transaction(Node *parsetree)
{
	ReindexStmt *reindex = (ReindexStmt *) parsetree;
	Oid			relid;
	char		relkind;

	if (reindex->kind != REINDEX_OBJECT_INDEX &&
		reindex->kind != REINDEX_OBJECT_TABLE)
		return false;
	if (MG_REINDEX_LEGACY_CONCURRENT(reindex) ||
		migguard_defelem_is_true(MG_REINDEX_OPTIONS(reindex), "concurrently"))
		return false;
	relid = RangeVarGetRelid(reindex->relation, NoLock, true);
	relkind = get_rel_relkind(relid);
	return relkind != RELKIND_PARTITIONED_TABLE &&
		relkind != RELKIND_PARTITIONED_INDEX;
}

static bool
alter_table_in_transaction(Node *parsetree)
{
	ListCell   *lc;

	foreach(lc, ((AlterTableStmt *) parsetree)->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

		if (cmd->subtype == AT_DetachPartition &&
			MG_PARTCMD_CONCURRENT((PartitionCmd *) cmd->def))
			return false;
	}
	return true;
}

static bool
vacuum_in_transaction(Node *parsetree)
{
	return !((VacuumStmt *) parsetree)->is_vacuumcmd;
}

static bool
cluster_in_transaction(Node *parsetree)
{
	MgClusterStmt *cluster = (MgClusterStmt *) parsetree;

	/* REPACK (CONCURRENTLY): PreventInTransactionBlock (ExecRepack) */
	if (mg_cluster_relation(cluster) == NULL || mg_cluster_concurrently(cluster))
		return false;
	return get_rel_relkind(RangeVarGetRelid(mg_cluster_relation(cluster), NoLock, true)) !=
		RELKIND_PARTITIONED_TABLE;
}

/* ----------------------------------------------------------------
 * Locks
 * ----------------------------------------------------------------
 */

static void
lock_relid(MigguardStatement *stmt, Oid relid, LOCKMODE lockmode)
{
	if (OidIsValid(relid) && get_rel_relkind(relid) != '\0')
		migguard_add_lock(stmt, migguard_describe_relation(stmt->analysis, relid), lockmode);
}

/* A lock that never waits in a queue: named, but not protected. */
static void
lock_relid_never_queues(MigguardStatement *stmt, Oid relid, LOCKMODE lockmode)
{
	ListCell   *lc;

	lock_relid(stmt, relid, lockmode);
	foreach(lc, stmt->ops)
	{
		MigguardOp *op = (MigguardOp *) lfirst(lc);

		if (op->kind == MG_OP_OTHER_LOCK && op->rel->relid == relid)
			op->flags |= MG_F_NEVER_QUEUES;
	}
}

/* Every partition or inheritance child of relid, at every level. */
static void
lock_inheritors(MigguardStatement *stmt, Oid relid, LOCKMODE lockmode)
{
	ListCell   *lc;

	if (!OidIsValid(relid) || !has_subclass(relid))
		return;
	foreach(lc, find_all_inheritors(relid, NoLock, NULL))
		if (lfirst_oid(lc) != relid)
			lock_relid(stmt, lfirst_oid(lc), lockmode);
}

static bool
user_owns(Oid relid)
{
	return OidIsValid(relid) && mg_class_ownercheck(relid, GetUserId());
}

/* Whether an int2 array (conkey, confkey) holds attnum; 0 matches any. */
static bool
key_has_attnum(HeapTuple tup, TupleDesc desc, AttrNumber keyattr,
			   AttrNumber attnum)
{
	Datum		datum;
	bool		isnull;
	Datum	   *keys;
	int			n;

	if (attnum == 0)
		return true;
	datum = heap_getattr(tup, keyattr, desc, &isnull);
	if (isnull)
		return false;
	deconstruct_array(DatumGetArrayTypeP(datum), INT2OID, sizeof(int16), true,
					  TYPALIGN_SHORT, &keys, NULL, &n);
	for (int i = 0; i < n; i++)
		if (DatumGetInt16(keys[i]) == attnum)
			return true;
	return false;
}

/*
 * The other table of each foreign key of relid that the statement drops or
 * rebuilds, in lockmode: removing a foreign key removes its triggers on
 * both tables (RemoveTriggerById) and its constraint rows
 * (RemoveConstraintById), each under ACCESS EXCLUSIVE; cloning one to a new
 * partition adds triggers to the referenced table under SHARE ROW
 * EXCLUSIVE (CloneFkReferencing).
 *
 * referencing: the keys of relid (conrelid), on the attnum column (0: any),
 * or only the one named conname.  referenced: the keys that reference
 * relid (confrelid), likewise, or only those using the index conindid.
 */
static void
lock_fk_partners(MigguardStatement *stmt, Oid relid, LOCKMODE lockmode,
				 bool referencing, bool referenced, AttrNumber attnum,
				 const char *conname, Oid conindid)
{
	Relation	conrel = table_open(ConstraintRelationId, AccessShareLock);
	SysScanDesc scan = systable_beginscan(conrel, InvalidOid, false,
										  NULL, 0, NULL);
	HeapTuple	tup;
	List	   *partners = NIL;
	ListCell   *lc;

	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tup);

		if (con->contype != CONSTRAINT_FOREIGN)
			continue;

		/*
		 * A key a partition inherited goes with its parent's: dropping the
		 * partition or its column leaves the other table alone.  But the
		 * referenced side's change reaches each partition's copy of a key
		 * (pf1's of pf's), which depends on the referenced columns and
		 * index itself (CreateConstraintEntry).
		 */
		if (referencing && con->conrelid == relid &&
			!OidIsValid(con->conparentid) &&
			(conname == NULL || strcmp(NameStr(con->conname), conname) == 0) &&
			key_has_attnum(tup, RelationGetDescr(conrel),
						   Anum_pg_constraint_conkey, attnum))
			partners = list_append_unique_oid(partners, con->confrelid);
		if (referenced && con->confrelid == relid &&
			(!OidIsValid(conindid) || con->conindid == conindid) &&
			key_has_attnum(tup, RelationGetDescr(conrel),
						   Anum_pg_constraint_confkey, attnum))
			partners = list_append_unique_oid(partners, con->conrelid);
	}
	systable_endscan(scan);
	table_close(conrel, AccessShareLock);

	foreach(lc, partners)
		if (lfirst_oid(lc) != relid)
			lock_relid(stmt, lfirst_oid(lc), lockmode);
}

/* The parent and default partition a partition's DROP locks. */
static void
lock_partition_parent(MigguardStatement *stmt, Oid relid)
{
	Oid			parentid;
	Oid			defaultid;

	if (!get_rel_relispartition(relid))
		return;
	parentid = get_partition_parent(relid, true);
	if (!OidIsValid(parentid))
		return;
	lock_relid(stmt, parentid, AccessExclusiveLock);
	defaultid = get_default_partition_oid(parentid);
	if (defaultid != relid)
		lock_relid(stmt, defaultid, AccessExclusiveLock);
}

/* ----------------------------------------------------------------
 * What a DROP takes with it (issue 13)
 * ----------------------------------------------------------------
 */

/*
 * The table column relattr of the row of catalog catalogid whose oid
 * (column oidattr, unique index indexid) is objid: the table a default,
 * trigger, rule or policy belongs to.
 */
static Oid
catalog_row_relid(Oid catalogid, Oid indexid, AttrNumber oidattr,
				  AttrNumber relattr, Oid objid)
{
	Relation	rel = table_open(catalogid, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			relid = InvalidOid;

	ScanKeyInit(&key, oidattr, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(objid));
	scan = systable_beginscan(rel, indexid, true, NULL, 1, &key);
	if (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		datum = heap_getattr(tup, relattr, RelationGetDescr(rel),
										 &isnull);

		if (!isnull)
			relid = DatumGetObjectId(datum);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return relid;
}

/*
 * The relation locks that deleting one object takes (deleteOneObject):
 * a relation is dropped (heap_drop_with_catalog, index_drop, which locks
 * the index's table too), a column removed (RemoveAttributeById), and a
 * default, constraint, trigger, rule or policy removed from its table
 * (RemoveAttrDefaultById, RemoveConstraintById, RemoveTriggerById,
 * RemoveRewriteRuleById, RemovePolicyById), each ACCESS EXCLUSIVE.  TOAST
 * tables and their indexes go with their table and are not named.  A
 * foreign key's referenced table is locked by the removal of the key's
 * action triggers there, which belong to the key (INTERNAL): a key a
 * partition inherited has none, and leaves that table alone.
 */
static void
lock_deleted_object(MigguardStatement *stmt, const ObjectAddress *object)
{
	Oid			relid = InvalidOid;

	switch (object->classId)
	{
		case RelationRelationId:
			if (IsToastNamespace(get_rel_namespace(object->objectId)))
				return;
			lock_relid(stmt, object->objectId, AccessExclusiveLock);
			if (object->objectSubId == 0 &&
				(get_rel_relkind(object->objectId) == RELKIND_INDEX ||
				 get_rel_relkind(object->objectId) == RELKIND_PARTITIONED_INDEX))
				relid = IndexGetRelation(object->objectId, true);
			break;
		case AttrDefaultRelationId:
			relid = catalog_row_relid(AttrDefaultRelationId, AttrDefaultOidIndexId,
									  Anum_pg_attrdef_oid, Anum_pg_attrdef_adrelid,
									  object->objectId);
			break;
		case TriggerRelationId:
			relid = catalog_row_relid(TriggerRelationId, TriggerOidIndexId,
									  Anum_pg_trigger_oid, Anum_pg_trigger_tgrelid,
									  object->objectId);
			break;
		case RewriteRelationId:
			relid = catalog_row_relid(RewriteRelationId, RewriteOidIndexId,
									  Anum_pg_rewrite_oid, Anum_pg_rewrite_ev_class,
									  object->objectId);
			break;
		case PolicyRelationId:
			relid = catalog_row_relid(PolicyRelationId, PolicyOidIndexId,
									  Anum_pg_policy_oid, Anum_pg_policy_polrelid,
									  object->objectId);
			break;
		case ConstraintRelationId:
			{
				HeapTuple	tup = SearchSysCache1(CONSTROID,
												  ObjectIdGetDatum(object->objectId));
				Form_pg_constraint con;

				if (!HeapTupleIsValid(tup))
					return;
				con = (Form_pg_constraint) GETSTRUCT(tup);
				relid = con->conrelid;
				ReleaseSysCache(tup);
				break;
			}
		default:
			return;
	}
	if (OidIsValid(relid) && !IsToastNamespace(get_rel_namespace(relid)))
		lock_relid(stmt, relid, AccessExclusiveLock);
}

static bool
object_visited(List *visited, const ObjectAddress *object)
{
	ListCell   *lc;

	foreach(lc, visited)
	{
		const ObjectAddress *seen = (const ObjectAddress *) lfirst(lc);

		if (seen->classId == object->classId &&
			seen->objectId == object->objectId &&
			(seen->objectSubId == 0 || seen->objectSubId == object->objectSubId))
			return true;
	}
	return false;
}

/*
 * Every object deleting object deletes with it, and their tables' locks,
 * read from pg_depend the way findDependentObjects (dependency.c) walks
 * it, without its locks: first the owner an INTERNAL dependency makes the
 * object part of (a view's _RETURN rule belongs to the view, an index to
 * its constraint), which is deleted instead; then every object that
 * depends on it, recursively: all of them with CASCADE, else only the
 * AUTO, INTERNAL, PARTITION and EXTENSION ones (a NORMAL dependent makes
 * the statement fail).  Objects are visited in findDependentObjects'
 * order, pg_depend's index order, so the locks come in PostgreSQL's order
 * too.
 */
static void
lock_deleted_objects(MigguardStatement *stmt, Relation deprel,
					 const ObjectAddress *object, bool cascade, List **visited)
{
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *next = NIL;
	ListCell   *lc;
	ObjectAddress *seen;

	check_stack_depth();
	if (object_visited(*visited, object))
		return;
	seen = palloc(sizeof(ObjectAddress));
	*seen = *object;
	*visited = lappend(*visited, seen);

	/* The owner, deleted instead (findDependentObjects' first loop) */
	ScanKeyInit(&key[0], Anum_pg_depend_classid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(object->classId));
	ScanKeyInit(&key[1], Anum_pg_depend_objid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(object->objectId));
	scan = systable_beginscan(deprel, DependDependerIndexId, true, NULL, 2, key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);
		ObjectAddress *owner;

		if (dep->deptype != DEPENDENCY_INTERNAL ||
			(object->objectSubId != 0 && dep->objsubid != object->objectSubId))
			continue;
		owner = palloc(sizeof(ObjectAddress));
		ObjectAddressSubSet(*owner, dep->refclassid, dep->refobjid,
							dep->refobjsubid);
		next = lappend(next, owner);
	}
	systable_endscan(scan);

	/* The dependents (its second loop) */
	scan = migguard_dependents_scan(deprel, object->classId, object->objectId,
									object->objectSubId);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);
		ObjectAddress *dependent;

		if (dep->deptype == DEPENDENCY_NORMAL && !cascade)
			continue;
		dependent = palloc(sizeof(ObjectAddress));
		ObjectAddressSubSet(*dependent, dep->classid, dep->objid,
							dep->objsubid);
		next = lappend(next, dependent);
	}
	systable_endscan(scan);

	lock_deleted_object(stmt, object);
	foreach(lc, next)
		lock_deleted_objects(stmt, deprel, (ObjectAddress *) lfirst(lc),
							 cascade, visited);
}

/*
 * What a DROP of the object, or of the column when subid > 0, deletes.  A
 * relation this transaction created has no dependent another session could
 * lock that this transaction has not changed, and so locked strongly,
 * itself (a view replaced, a table attached as a partition): its walk is
 * skipped, being most of the cost of analysing a migration's DROP TABLE.
 */
static void
lock_dropped(MigguardStatement *stmt, Oid classid, Oid objid, int32 subid,
			 bool cascade)
{
	ObjectAddress object;
	List	   *visited = NIL;
	Relation	deprel;

	if (classid == RelationRelationId && migguard_relation_is_new(objid))
		return;
	ObjectAddressSubSet(object, classid, objid, subid);
	deprel = table_open(DependRelationId, AccessShareLock);
	lock_deleted_objects(stmt, deprel, &object, cascade, &visited);
	table_close(deprel, AccessShareLock);
	list_free_deep(visited);
}

/*
 * The typed tables of a composite type (find_typed_table_dependencies,
 * which scans pg_class for reloftype), locked in lockmode when the ALTER
 * TYPE recurses to them with CASCADE (ATTypedTableRecursion,
 * renameatt_internal); without CASCADE a typed table makes it fail.
 */
static void
lock_typed_tables(MigguardStatement *stmt, Oid typid, LOCKMODE lockmode)
{
	Relation	classrel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;

	if (!OidIsValid(typid))
		return;
	classrel = table_open(RelationRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_class_reloftype, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(typid));
	scan = systable_beginscan(classrel, InvalidOid, false, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
		lock_relid(stmt, ((Form_pg_class) GETSTRUCT(tup))->oid, lockmode);
	systable_endscan(scan);
	table_close(classrel, AccessShareLock);
}

/*
 * The referenced tables of the foreign keys a partition inherited: DETACH
 * PARTITION makes them its own and adds their action triggers to the
 * referenced table (DetachPartitionFinalize ->
 * createForeignKeyActionTriggers -> CreateTrigger), SHARE ROW EXCLUSIVE.
 */
static void
lock_inherited_fk_referenced(MigguardStatement *stmt, Oid partid)
{
	Relation	conrel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;

	if (!OidIsValid(partid))
		return;
	conrel = table_open(ConstraintRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_constraint_conrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(partid));
	scan = systable_beginscan(conrel, ConstraintRelidTypidNameIndexId, true,
							  NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tup);

		if (con->contype == CONSTRAINT_FOREIGN && OidIsValid(con->conparentid))
			lock_relid(stmt, con->confrelid, ShareRowExclusiveLock);
	}
	systable_endscan(scan);
	table_close(conrel, AccessShareLock);
}

/* CREATE TABLE ... PARTITION OF: DefineRelation's parentLockmode. */
static void
create_locks(MigguardStatement *stmt, Node *parsetree)
{
	CreateStmt *create = (CreateStmt *) parsetree;
	Oid			parentid;

	if (create->partbound == NULL || create->inhRelations == NIL)
		return;
	parentid = migguard_lookup_relid(stmt->analysis, linitial_node(RangeVar, create->inhRelations));
	if (!user_owns(parentid) ||
		get_rel_relkind(parentid) != RELKIND_PARTITIONED_TABLE)
		return;
	lock_relid(stmt, parentid, AccessExclusiveLock);
	if (!create->partbound->is_default)
		lock_relid(stmt, get_default_partition_oid(parentid),
				   AccessExclusiveLock);
	/* CloneForeignKeyConstraints: the tables the parent's keys reference */
	lock_fk_partners(stmt, parentid, ShareRowExclusiveLock, true, false, 0,
					 NULL, InvalidOid);
}

/*
 * The table of the trigger, rule or policy a DROP names (its name list less
 * the last element), when the object exists: for DROP ... IF EXISTS of a
 * missing one, get_object_address releases the table's lock at once.
 */
static Oid
relobject_table(const MigguardAnalysis *cx, ObjectType type, List *names)
{
	Oid			relid;
	const char *name;

	if (list_length(names) < 2)
		return InvalidOid;
	relid = migguard_lookup_relid(cx, makeRangeVarFromNameList(list_truncate(list_copy(names),
																			  list_length(names) - 1)));
	if (!OidIsValid(relid))
		return InvalidOid;
	name = strVal(llast(names));
	if ((type == OBJECT_TRIGGER && OidIsValid(get_trigger_oid(relid, name, true))) ||
		(type == OBJECT_RULE && OidIsValid(get_rewrite_oid(relid, name, true))) ||
		(type == OBJECT_POLICY && OidIsValid(get_relation_policy_oid(relid, name, true))))
		return relid;
	return InvalidOid;
}

/* RangeVarCallbackForDropRelation refuses the wrong kind before locking. */
static bool
relkind_matches(ObjectType type, char relkind)
{
	switch (type)
	{
		case OBJECT_TABLE:
			return relkind == RELKIND_RELATION ||
				relkind == RELKIND_PARTITIONED_TABLE;
		case OBJECT_VIEW:
			return relkind == RELKIND_VIEW;
		case OBJECT_MATVIEW:
			return relkind == RELKIND_MATVIEW;
		case OBJECT_SEQUENCE:
			return relkind == RELKIND_SEQUENCE;
		case OBJECT_FOREIGN_TABLE:
			return relkind == RELKIND_FOREIGN_TABLE;
		default:
			return false;
	}
}

/*
 * DROP TYPE or DOMAIN of typid: get_object_address_type refuses the wrong
 * kind, RemoveObjects anyone but the type's or its schema's owner.
 */
static bool
type_may_be_dropped(Oid typid, ObjectType objtype)
{
	HeapTuple	tup;
	Form_pg_type typ;
	bool		result;

	if (!OidIsValid(typid))
		return false;
	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	if (!HeapTupleIsValid(tup))
		return false;
	typ = (Form_pg_type) GETSTRUCT(tup);
	result = (objtype == OBJECT_DOMAIN) == (typ->typtype == TYPTYPE_DOMAIN) &&
		(mg_type_ownercheck(typid, GetUserId()) ||
		 mg_namespace_ownercheck(typ->typnamespace, GetUserId()));
	ReleaseSysCache(tup);
	return result;
}

static void
drop_locks(MigguardStatement *stmt, Node *parsetree)
{
	DropStmt   *drop = (DropStmt *) parsetree;
	ListCell   *lc;

	foreach(lc, drop->objects)
	{
		Oid			relid;

		switch (drop->removeType)
		{
			case OBJECT_TRIGGER:
			case OBJECT_RULE:
			case OBJECT_POLICY:
				relid = relobject_table(stmt->analysis, drop->removeType,
										(List *) lfirst(lc));
				if (user_owns(relid))
					lock_relid(stmt, relid, AccessExclusiveLock);
				break;
			case OBJECT_VIEW:
			case OBJECT_MATVIEW:
			case OBJECT_SEQUENCE:
			case OBJECT_FOREIGN_TABLE:
			case OBJECT_TABLE:
				relid = migguard_lookup_relid(stmt->analysis, makeRangeVarFromNameList((List *) lfirst(lc)));
				if (!OidIsValid(relid) ||
					!relkind_matches(drop->removeType, get_rel_relkind(relid)) ||
					!(user_owns(relid) ||
					  mg_namespace_ownercheck(get_rel_namespace(relid), GetUserId())))
					break;
				lock_relid(stmt, relid, AccessExclusiveLock);
				if (drop->removeType == OBJECT_TABLE)
				{
					lock_partition_parent(stmt, relid);
					lock_fk_partners(stmt, relid, AccessExclusiveLock, true,
									 drop->behavior == DROP_CASCADE, 0, NULL,
									 InvalidOid);
				}
				/* partitions, views, defaults using a sequence ... */
				if (drop->behavior == DROP_CASCADE ||
					get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE)
					lock_dropped(stmt, RelationRelationId, relid, 0,
								 drop->behavior == DROP_CASCADE);
				else
				{
					ListCell   *sc;

					/*
					 * Without CASCADE only AUTO and INTERNAL dependents go
					 * along, and of another relation only the sequences it
					 * owns (getOwnedSequences): no walk needed.
					 */
					foreach(sc, getOwnedSequences(relid))
						lock_relid(stmt, lfirst_oid(sc), AccessExclusiveLock);
				}
				break;
			case OBJECT_INDEX:
				relid = migguard_lookup_relid(stmt->analysis, makeRangeVarFromNameList((List *) lfirst(lc)));
				if (!(user_owns(relid) ||
					  mg_namespace_ownercheck(get_rel_namespace(relid), GetUserId())))
					break;

				/*
				 * CONCURRENTLY ends with ACCESS EXCLUSIVE on the index, which
				 * index_drop has marked dead first: no query opens it, so
				 * that lock queues nobody (migguard_stmt_waits_for_others_only).
				 */
				if (drop->concurrent && get_rel_relkind(relid) == RELKIND_INDEX)
					lock_relid_never_queues(stmt, relid, AccessExclusiveLock);
				/* a partitioned index takes its partitions' indexes along */
				if (drop->concurrent ||
					get_rel_relkind(relid) != RELKIND_PARTITIONED_INDEX)
					break;
				lock_dropped(stmt, RelationRelationId, relid, 0,
							 drop->behavior == DROP_CASCADE);
				break;
			case OBJECT_TYPE:
			case OBJECT_DOMAIN:
				{
					/* RemoveObjects: the type's or the schema's owner */
					Oid			typid = LookupTypeNameOid(NULL, lfirst_node(TypeName, lc),
														  true);

					if (!type_may_be_dropped(typid, drop->removeType))
						break;
					lock_dropped(stmt, TypeRelationId, typid, 0,
								 drop->behavior == DROP_CASCADE);
					break;
				}
			default:
				break;
		}
	}
}

/* The index a constraint of relid named conname uses (PRIMARY KEY, UNIQUE). */
static Oid
constraint_index(Oid relid, const char *conname)
{
	Oid			conid = get_relation_constraint_oid(relid, conname, true);
	HeapTuple	tup;
	Oid			indexid = InvalidOid;

	if (!OidIsValid(conid))
		return InvalidOid;
	tup = SearchSysCache1(CONSTROID, ObjectIdGetDatum(conid));
	if (HeapTupleIsValid(tup))
	{
		Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tup);

		if (con->contype == CONSTRAINT_PRIMARY || con->contype == CONSTRAINT_UNIQUE)
			indexid = con->conindid;
		ReleaseSysCache(tup);
	}
	return indexid;
}

/*
 * The sequence that is an INTERNAL dependent of column attnum of relid, as
 * getOwnedSequences_internal (pg_depend.c) finds an identity sequence.
 * Read from the catalog without opening the relation: getIdentitySequence
 * itself takes the relation's Oid up to 16 and an open (locked) Relation
 * from 17 on, and the analysis holds no lock on it yet.
 */
static Oid
column_identity_sequence(Oid relid, AttrNumber attnum)
{
	Relation	deprel = table_open(DependRelationId, AccessShareLock);
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			seqid = InvalidOid;

	scan = migguard_dependents_scan(deprel, RelationRelationId, relid, attnum);
	while ((tup = systable_getnext(scan)) != NULL)
	{
		Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);

		if (dep->classid == RelationRelationId && dep->objsubid == 0 &&
			dep->deptype == DEPENDENCY_INTERNAL &&
			get_rel_relkind(dep->objid) == RELKIND_SEQUENCE)
		{
			seqid = dep->objid;
			break;
		}
	}
	systable_endscan(scan);
	table_close(deprel, AccessShareLock);
	return seqid;
}

/*
 * The sequence of an identity column, if any.  From 17 on a partition's
 * identity column uses the sequence of the topmost partitioned table
 * (getIdentitySequence): look there when the partition has none of its own.
 */
static void
lock_identity_sequence(MigguardStatement *stmt, Oid relid, AttrNumber attnum,
					   LOCKMODE lockmode)
{
	Oid			seqid = column_identity_sequence(relid, attnum);

	if (!OidIsValid(seqid) && get_rel_relispartition(relid))
	{
		List	   *ancestors = get_partition_ancestors(relid);
		char	   *attname = get_attname(relid, attnum, true);

		if (ancestors != NIL && attname != NULL)
		{
			Oid			top = llast_oid(ancestors);
			AttrNumber	topattnum = get_attnum(top, attname);

			if (topattnum != InvalidAttrNumber)
				seqid = column_identity_sequence(top, topattnum);
		}
	}
	lock_relid(stmt, seqid, lockmode);
}

static void
alter_table_locks(MigguardStatement *stmt, Node *parsetree)
{
	AlterTableStmt *alter = (AlterTableStmt *) parsetree;
	Oid			relid = migguard_lookup_relid(stmt->analysis, alter->relation);
	ListCell   *lc;

	if (!user_owns(relid))
		return;
	foreach(lc, alter->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);
		bool		cascade = cmd->behavior == DROP_CASCADE;
		AttrNumber	attnum;

		/*
		 * Without ONLY, these recurse to every child under the statement's
		 * lock (ATSimpleRecursion, ATExecAddColumn, ATExecDropColumn,
		 * ATPrepAlterColumnType, ATAddCheckConstraint).
		 */
		if (alter->objtype == OBJECT_TABLE && alter->relation->inh &&
			(MG_IS_ADD_COLUMN(cmd->subtype) || MG_IS_DROP_COLUMN(cmd->subtype) ||
			 cmd->subtype == AT_AlterColumnType || cmd->subtype == AT_SetNotNull ||
			 (MG_IS_ADD_CONSTRAINT(cmd->subtype) && IsA(cmd->def, Constraint) &&
			  ((Constraint *) cmd->def)->contype == CONSTR_CHECK &&
			  !((Constraint *) cmd->def)->is_no_inherit)))
			lock_inheritors(stmt, relid, AlterTableGetLockLevel(alter->cmds));

		/* ALTER TYPE ... CASCADE: the typed tables too */
		if (alter->objtype == OBJECT_TYPE && cascade)
			lock_typed_tables(stmt, get_rel_type_id(relid),
							  AlterTableGetLockLevel(alter->cmds));

		switch (cmd->subtype)
		{
			case AT_AttachPartition:
				{
					PartitionCmd *pc = (PartitionCmd *) cmd->def;
					Oid			partid = migguard_lookup_relid(stmt->analysis, pc->name);

					if (alter->objtype == OBJECT_INDEX)
					{
						/* ATExecAttachPartitionIdx */
						if (user_owns(partid))
							lock_relid(stmt, partid, AccessExclusiveLock);
						break;
					}
					if (get_rel_relkind(relid) != RELKIND_PARTITIONED_TABLE ||
						!user_owns(partid))
						break;
					/* ATExecAttachPartition, then CloneForeignKeyConstraints */
					lock_relid(stmt, get_default_partition_oid(relid),
							   AccessExclusiveLock);
					lock_relid(stmt, partid, AccessExclusiveLock);
					lock_fk_partners(stmt, relid, ShareRowExclusiveLock,
									 true, false, 0, NULL, InvalidOid);
					break;
				}
			case AT_DetachPartition:
				{
					PartitionCmd *pc = (PartitionCmd *) cmd->def;
					Oid			partid = migguard_lookup_relid(stmt->analysis, pc->name);

					/*
					 * ATExecDetachPartition: the default partition, then the
					 * partition; CONCURRENTLY takes ACCESS EXCLUSIVE on the
					 * partition in its second transaction
					 * (DetachPartitionFinalize).
					 */
					if (!MG_PARTCMD_CONCURRENT(pc))
						lock_relid(stmt, get_default_partition_oid(relid),
								   AccessExclusiveLock);
					lock_relid(stmt, partid, AccessExclusiveLock);
					if (get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE &&
						get_rel_relispartition(partid))
						lock_inherited_fk_referenced(stmt, partid);
					break;
				}
			case AT_AlterColumnType:
				/* ATPostAlterTypeCleanup rebuilds the keys on both sides */
				attnum = get_attnum(relid, cmd->name);
				if (attnum > 0)
					lock_fk_partners(stmt, relid, AccessExclusiveLock, true,
									 true, attnum, NULL, InvalidOid);
				/* an identity column's sequence gets the new type */
				if (attnum > 0)
					lock_identity_sequence(stmt, relid, attnum,
										   ShareRowExclusiveLock);
				break;
			case AT_SetIdentity:

				/*
				 * transformAlterTableStmt turns it into an ALTER SEQUENCE of
				 * the identity sequence (AlterSequence: SHARE ROW EXCLUSIVE).
				 */
				attnum = get_attnum(relid, cmd->name);
				if (attnum > 0)
					lock_identity_sequence(stmt, relid, attnum,
										   ShareRowExclusiveLock);
				break;
			case AT_DropIdentity:
				/* ATExecDropIdentity deletes the sequence (performDeletion) */
				attnum = get_attnum(relid, cmd->name);
				if (attnum > 0)
					lock_identity_sequence(stmt, relid, attnum,
										   AccessExclusiveLock);
				break;
			case AT_ReplicaIdentity:
				{
					ReplicaIdentityStmt *ri = (ReplicaIdentityStmt *) cmd->def;

					/* ATExecReplicaIdentity: index_open(indexOid, ShareLock) */
					if (ri->identity_type == REPLICA_IDENTITY_INDEX)
						lock_relid(stmt, get_relname_relid(ri->name,
														   get_rel_namespace(relid)),
								   ShareLock);
					break;
				}
			default:
				if (MG_IS_DROP_CONSTRAINT(cmd->subtype))
				{
					Oid			indexid;

					/* ATExecDropConstraint: the referenced table of an FK */
					lock_fk_partners(stmt, relid, AccessExclusiveLock, true,
									 false, 0, cmd->name, InvalidOid);

					/*
					 * A partitioned table's constraint goes with its copies
					 * on every partition: a CHECK by ATExecDropConstraint's
					 * recursion, the others through their PARTITION
					 * dependencies (findDependentObjects).
					 */
					if (get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE &&
						OidIsValid(get_relation_constraint_oid(relid, cmd->name,
															   true)))
						lock_inheritors(stmt, relid, AccessExclusiveLock);
					/* CASCADE drops the keys using a primary key or unique */
					indexid = cascade ? constraint_index(relid, cmd->name) :
						InvalidOid;
					if (OidIsValid(indexid))
						lock_fk_partners(stmt, relid, AccessExclusiveLock,
										 false, true, 0, NULL, indexid);
				}
				else if (MG_IS_DROP_COLUMN(cmd->subtype))
				{
					attnum = get_attnum(relid, cmd->name);
					if (attnum > 0)
					{
						lock_fk_partners(stmt, relid, AccessExclusiveLock,
										 true, cascade, attnum, NULL,
										 InvalidOid);
						/* views, indexes, ... on the column (ATExecDropColumn) */
						lock_dropped(stmt, RelationRelationId, relid, attnum,
									 cascade);
					}
				}
				else if (MG_IS_ADD_CONSTRAINT(cmd->subtype) &&
						 IsA(cmd->def, Constraint) &&
						 ((Constraint *) cmd->def)->contype == CONSTR_FOREIGN &&
						 get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE)
				{
					/* addFkRecurseReferencing: every partition */
					lock_inheritors(stmt, relid, ShareRowExclusiveLock);
				}
				break;
		}
	}
}

/* The table a trigger, rule or policy is renamed on, or a constraint. */
static void
rename_locks(MigguardStatement *stmt, Node *parsetree)
{
	RenameStmt *rename = (RenameStmt *) parsetree;
	Oid			relid;

	switch (rename->renameType)
	{
		case OBJECT_COLUMN:
			/* renameatt_internal: every child, ACCESS EXCLUSIVE */
			relid = migguard_lookup_relid(stmt->analysis, rename->relation);
			if (rename->relation->inh && user_owns(relid))
				lock_inheritors(stmt, relid, AccessExclusiveLock);
			break;
		case OBJECT_ATTRIBUTE:

			/*
			 * ALTER TYPE ... RENAME ATTRIBUTE: renameatt locks the composite
			 * type's relation (RangeVarCallbackForRenameAttribute checks the
			 * owner first), renameatt_internal with CASCADE every typed
			 * table of it, each ACCESS EXCLUSIVE.
			 */
			relid = migguard_lookup_relid(stmt->analysis, rename->relation);
			if (!user_owns(relid) ||
				get_rel_relkind(relid) != RELKIND_COMPOSITE_TYPE)
				break;
			lock_relid(stmt, relid, AccessExclusiveLock);
			if (rename->behavior == DROP_CASCADE)
				lock_typed_tables(stmt, get_rel_type_id(relid),
								  AccessExclusiveLock);
			break;
		case OBJECT_TABCONSTRAINT:
		case OBJECT_TRIGGER:
		case OBJECT_RULE:
		case OBJECT_POLICY:
			relid = migguard_lookup_relid(stmt->analysis, rename->relation);
			if (user_owns(relid))
				lock_relid(stmt, relid, AccessExclusiveLock);
			break;
		default:
			break;
	}
}

/* CreateTriggerFiringOn checks the TRIGGER privilege. */
static void
trigger_locks(MigguardStatement *stmt, Node *parsetree)
{
	CreateTrigStmt *trig = (CreateTrigStmt *) parsetree;
	Oid			relid = migguard_lookup_relid(stmt->analysis, trig->relation);
	ListCell   *lc;

	if (!OidIsValid(relid) ||
		mg_class_aclcheck(relid, GetUserId(), ACL_TRIGGER) != ACLCHECK_OK)
		return;
	lock_relid(stmt, relid, ShareRowExclusiveLock);
	if (!trig->row || get_rel_relkind(relid) != RELKIND_PARTITIONED_TABLE)
		return;
	foreach(lc, find_all_inheritors(relid, NoLock, NULL))
		lock_relid(stmt, lfirst_oid(lc), ShareRowExclusiveLock);
}

static void
rule_locks(MigguardStatement *stmt, Node *parsetree)
{
	Oid			relid = migguard_lookup_relid(stmt->analysis, ((RuleStmt *) parsetree)->relation);

	if (user_owns(relid))
		lock_relid(stmt, relid, AccessExclusiveLock);
}

static void
policy_locks(MigguardStatement *stmt, Node *parsetree)
{
	RangeVar   *table = IsA(parsetree, CreatePolicyStmt) ?
		((CreatePolicyStmt *) parsetree)->table :
		((AlterPolicyStmt *) parsetree)->table;
	Oid			relid = migguard_lookup_relid(stmt->analysis, table);

	if (user_owns(relid))
		lock_relid(stmt, relid, AccessExclusiveLock);
}

static void
view_locks(MigguardStatement *stmt, Node *parsetree)
{
	ViewStmt   *view = (ViewStmt *) parsetree;
	Oid			relid;

	if (!view->replace)
		return;
	relid = migguard_lookup_relid(stmt->analysis, view->view);
	if (user_owns(relid) && get_rel_relkind(relid) == RELKIND_VIEW)
		lock_relid(stmt, relid, AccessExclusiveLock);
}

/* DefineIndex builds the index on every partition, each under SHARE. */
static void
index_locks(MigguardStatement *stmt, Node *parsetree)
{
	IndexStmt  *index = (IndexStmt *) parsetree;
	Oid			relid;

	if (index->concurrent || !index->relation->inh)
		return;
	relid = migguard_lookup_relid(stmt->analysis, index->relation);
	if (user_owns(relid) && get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE)
		lock_inheritors(stmt, relid, ShareLock);
}

/* reindex_relation: each index of the table ACCESS EXCLUSIVE. */
static void
lock_table_indexes(MigguardStatement *stmt, Oid relid)
{
	/* pg_index read directly: the table itself is not open yet */
	Relation	indrel = table_open(IndexRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;

	ScanKeyInit(&key, Anum_pg_index_indrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(indrel, IndexIndrelidIndexId, true, NULL,
							  1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
		lock_relid(stmt, ((Form_pg_index) GETSTRUCT(tup))->indexrelid,
				   AccessExclusiveLock);
	systable_endscan(scan);
	table_close(indrel, AccessShareLock);
}

/* reindex_relation / reindex_index: each index ACCESS EXCLUSIVE. */
static void
reindex_locks(MigguardStatement *stmt, Node *parsetree)
{
	ReindexStmt *reindex = (ReindexStmt *) parsetree;
	Oid			relid;
	Oid			tableid;

	if (reindex->kind != REINDEX_OBJECT_INDEX &&
		reindex->kind != REINDEX_OBJECT_TABLE)
		return;
	if (migguard_stmt_waits_for_others_only(parsetree))
		return;
	relid = migguard_lookup_relid(stmt->analysis, reindex->relation);
	tableid = reindex->kind == REINDEX_OBJECT_INDEX ?
		IndexGetRelation(relid, true) : relid;
	if (!user_owns(tableid))
		return;
	switch (get_rel_relkind(relid))
	{
		case RELKIND_INDEX:
			lock_relid(stmt, relid, AccessExclusiveLock);
			break;
		case RELKIND_PARTITIONED_INDEX:
		case RELKIND_PARTITIONED_TABLE:
			{
				ListCell   *lc;

				/*
				 * ReindexPartitions: each leaf partition (of the table, or of
				 * the index), in find_all_inheritors' order, in a transaction
				 * of its own: reindex_relation locks a table SHARE and
				 * reindex_index each index ACCESS EXCLUSIVE, the index's
				 * table SHARE first.
				 */
				lock_relid(stmt, relid, reindex->kind == REINDEX_OBJECT_INDEX ?
						   AccessExclusiveLock : ShareLock);
				foreach(lc, find_all_inheritors(relid, NoLock, NULL))
				{
					Oid			leaf = lfirst_oid(lc);

					if (get_rel_relkind(leaf) == RELKIND_INDEX)
					{
						lock_relid(stmt, IndexGetRelation(leaf, true), ShareLock);
						lock_relid(stmt, leaf, AccessExclusiveLock);
					}
					else if (RELKIND_HAS_STORAGE(get_rel_relkind(leaf)))
					{
						lock_relid(stmt, leaf, ShareLock);
						lock_table_indexes(stmt, leaf);
					}
				}
				break;
			}
		default:
			lock_table_indexes(stmt, relid);
			break;
	}
}

/* VACUUM FULL and CLUSTER of a partitioned table: every partition. */
static void
maintenance_locks(MigguardStatement *stmt, Node *parsetree)
{
	ListCell   *lc;

	if (nodeTag(parsetree) == T_MgClusterStmt)
	{
		MgClusterStmt *cluster = (MgClusterStmt *) parsetree;
		Oid			relid = migguard_lookup_relid(stmt->analysis, mg_cluster_relation(cluster));

		if (OidIsValid(relid) && mg_user_maintains_relation(relid, GetUserId()) && get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE)
			lock_inheritors(stmt, relid, AccessExclusiveLock);
		return;
	}
	if (!((VacuumStmt *) parsetree)->is_vacuumcmd ||
		!migguard_defelem_is_true(((VacuumStmt *) parsetree)->options, "full"))
		return;
	foreach(lc, ((VacuumStmt *) parsetree)->rels)
	{
		Oid			relid = migguard_lookup_relid(stmt->analysis, lfirst_node(VacuumRelation, lc)->relation);

		if (user_owns(relid) && get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE)
			lock_inheritors(stmt, relid, AccessExclusiveLock);
	}
}

/* ExecuteTruncate expands a partitioned table to its partitions. */
static void
truncate_locks(MigguardStatement *stmt, Node *parsetree)
{
	ListCell   *lc;

	foreach(lc, ((TruncateStmt *) parsetree)->relations)
	{
		RangeVar   *rv = lfirst_node(RangeVar, lc);
		Oid			relid = migguard_lookup_relid(stmt->analysis, rv);

		if (!OidIsValid(relid) ||
			mg_class_aclcheck(relid, GetUserId(), ACL_TRUNCATE) != ACLCHECK_OK)
			continue;
		if (rv->inh && get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE)
			lock_inheritors(stmt, relid, AccessExclusiveLock);

		/*
		 * RESTART IDENTITY: ExecuteTruncateGuts opens each sequence the
		 * tables own ACCESS EXCLUSIVE (getOwnedSequences).
		 */
		if (((TruncateStmt *) parsetree)->restart_seqs)
		{
			ListCell   *sc;

			foreach(sc, rv->inh ? find_all_inheritors(relid, NoLock, NULL) :
					list_make1_oid(relid))
			{
				ListCell   *qc;

				foreach(qc, getOwnedSequences(lfirst_oid(sc)))
					lock_relid(stmt, lfirst_oid(qc), AccessExclusiveLock);
			}
		}
	}
}

typedef struct ViewBases
{
	MigguardStatement *stmt;
	Oid			viewid;
	Oid			check_as_user;
	LOCKMODE	lockmode;
	List	  **ancestors;
} ViewBases;

static bool lock_view_bases(MigguardStatement *stmt, Oid viewid,
							LOCKMODE lockmode, List **ancestors);

/* LockViewRecurse_walker (lockcmds.c), without its locks. */
static bool
view_bases_walker(Node *node, ViewBases *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		Query	   *query = (Query *) node;
		ListCell   *lc;

		foreach(lc, query->rtable)
		{
			RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);
			Oid			relid = rte->relid;

			/* The OLD and NEW placeholders of the view's own rtable */
			if (relid == context->viewid &&
				(strcmp(rte->eref->aliasname, "old") == 0 ||
				 strcmp(rte->eref->aliasname, "new") == 0))
				continue;
			if (rte->relkind != RELKIND_RELATION &&
				rte->relkind != RELKIND_PARTITIONED_TABLE &&
				rte->relkind != RELKIND_VIEW)
				continue;
			if (list_member_oid(*context->ancestors, relid))
				continue;

			/* LockTableAclCheck as the view owner: a failure ends LOCK */
			if (mg_class_aclcheck(relid, context->check_as_user,
								  migguard_lock_table_aclmask(context->lockmode)) != ACLCHECK_OK)
				return true;
			lock_relid(context->stmt, relid, context->lockmode);
			if (rte->relkind == RELKIND_VIEW)
			{
				bool		refused;

				*context->ancestors = lappend_oid(*context->ancestors, relid);
				refused = lock_view_bases(context->stmt, relid,
										  context->lockmode,
										  context->ancestors);
				*context->ancestors = list_delete_last(*context->ancestors);
				if (refused)
					return true;
			}
			else if (rte->inh)
				lock_inheritors(context->stmt, relid, context->lockmode);
		}
		return query_tree_walker(query, view_bases_walker, context,
								 QTW_IGNORE_JOINALIASES);
	}
	return expression_tree_walker(node, view_bases_walker, context);
}

/*
 * LOCK of a view locks, in the same mode, every table and view its query
 * reads, recursively (LockViewRecurse), with the privilege checked as the
 * view's owner, or the current user for a security_invoker view.  The
 * query is read from the view's _RETURN rule in pg_rewrite, with no lock.
 * True when a privilege check fails there, which ends the LOCK.
 */
static bool
lock_view_bases(MigguardStatement *stmt, Oid viewid, LOCKMODE lockmode,
				List **ancestors)
{
	HeapTuple	tup;
	ViewBases	context;
	Datum		datum;
	bool		isnull;
	List	   *actions;

	check_stack_depth();
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(viewid));
	if (!HeapTupleIsValid(tup))
		return false;
	context.stmt = stmt;
	context.viewid = viewid;
	context.lockmode = lockmode;
	context.ancestors = ancestors;
	context.check_as_user = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	datum = SysCacheGetAttr(RELOID, tup, Anum_pg_class_reloptions, &isnull);
	if (!isnull)
	{
		ViewOptions *options = (ViewOptions *) view_reloptions(datum, false);

		if (options != NULL && options->security_invoker)
			context.check_as_user = GetUserId();
	}
	ReleaseSysCache(tup);

	tup = SearchSysCache2(RULERELNAME, ObjectIdGetDatum(viewid),
						  CStringGetDatum(ViewSelectRuleName));
	if (!HeapTupleIsValid(tup))
		return false;
	datum = SysCacheGetAttr(RULERELNAME, tup, Anum_pg_rewrite_ev_action, &isnull);
	actions = isnull ? NIL : (List *) stringToNode(TextDatumGetCString(datum));
	ReleaseSysCache(tup);
	return list_length(actions) == 1 &&
		view_bases_walker(linitial(actions), &context);
}

/* LockTableRecurse: the children, in the same mode, with the same test. */
static void
lock_table_locks(MigguardStatement *stmt, Node *parsetree)
{
	LockStmt   *lock = (LockStmt *) parsetree;
	ListCell   *lc;

	foreach(lc, lock->relations)
	{
		RangeVar   *rv = lfirst_node(RangeVar, lc);
		Oid			relid = migguard_lookup_relid(stmt->analysis, rv);
		ListCell   *cl;

		/* classify.c names the relation only where the lock may wait */
		if (lock->nowait && OidIsValid(relid) &&
			mg_class_aclcheck(relid, GetUserId(),
							  migguard_lock_table_aclmask(lock->mode)) == ACLCHECK_OK)
			lock_relid(stmt, relid, lock->mode);

		if (get_rel_relkind(relid) == RELKIND_VIEW &&
			mg_class_aclcheck(relid, GetUserId(),
							  migguard_lock_table_aclmask(lock->mode)) == ACLCHECK_OK)
		{
			List	   *ancestors = list_make1_oid(relid);

			if (lock_view_bases(stmt, relid, lock->mode, &ancestors))
				break;
			continue;
		}
		if (!OidIsValid(relid) || !rv->inh || !has_subclass(relid))
			continue;
		foreach(cl, find_all_inheritors(relid, NoLock, NULL))
		{
			Oid			child = lfirst_oid(cl);

			if (child != relid &&
				mg_class_aclcheck(child, GetUserId(),
								  ACL_UPDATE | ACL_DELETE | ACL_TRUNCATE) == ACLCHECK_OK)
				lock_relid(stmt, child, lock->mode);
		}
	}

	/*
	 * NOWAIT: every lock is conditional (ConditionalLockRelationOid in
	 * LockTableRecurse and LockViewRecurse_walker), so it never queues and
	 * is not taken ahead: PostgreSQL's own error comes at once.
	 */
	if (lock->nowait)
		foreach(lc, stmt->ops)
		{
			MigguardOp *op = (MigguardOp *) lfirst(lc);

			if (op->kind == MG_OP_OTHER_LOCK)
				op->flags |= MG_F_NEVER_QUEUES;
		}
}

static void
sequence_locks(MigguardStatement *stmt, Node *parsetree)
{
	Oid			relid = migguard_lookup_relid(stmt->analysis, ((AlterSeqStmt *) parsetree)->sequence);

	if (user_owns(relid) && get_rel_relkind(relid) == RELKIND_SEQUENCE)
		lock_relid(stmt, relid, ShareRowExclusiveLock);
}

/*
 * Every relation with a column of the domain or of a domain over it, in
 * get_rels_with_domain's order (pg_depend's reference index), which locks
 * each before it looks at its kind.
 */
static void
lock_domain_users(MigguardStatement *stmt, Oid domainid)
{
	Relation	deprel;
	SysScanDesc scan;
	HeapTuple	tup;

	check_stack_depth();
	deprel = table_open(DependRelationId, AccessShareLock);
	scan = migguard_dependents_scan(deprel, TypeRelationId, domainid, 0);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);

		if (dep->classid == TypeRelationId &&
			get_typtype(dep->objid) == TYPTYPE_DOMAIN)
			lock_domain_users(stmt, dep->objid);
		else if (dep->classid == RelationRelationId && dep->objsubid > 0)
			lock_relid(stmt, dep->objid, ShareLock);
	}
	systable_endscan(scan);
	table_close(deprel, AccessShareLock);
}

/*
 * ALTER DOMAIN ... ADD CONSTRAINT (a CHECK, unless NOT VALID), VALIDATE
 * CONSTRAINT, SET NOT NULL (unless already NOT NULL): checkDomainOwner
 * first, then every user of the domain SHARE.
 */
static void
domain_locks(MigguardStatement *stmt, Node *parsetree)
{
	AlterDomainStmt *alter = (AlterDomainStmt *) parsetree;
	Oid			domainid;
	HeapTuple	tup;
	bool		scans;

	switch (alter->subtype)
	{
		case 'C':
			scans = IsA(alter->def, Constraint) &&
				((Constraint *) alter->def)->contype == CONSTR_CHECK &&
				!((Constraint *) alter->def)->skip_validation;
			break;
		case 'V':
		case 'O':
			scans = true;
			break;
		default:
			scans = false;
			break;
	}
	if (!scans)
		return;
	domainid = LookupTypeNameOid(NULL, makeTypeNameFromNameList(alter->typeName),
								 true);
	if (!OidIsValid(domainid))
		return;
	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(domainid));
	if (!HeapTupleIsValid(tup))
		return;
	scans = ((Form_pg_type) GETSTRUCT(tup))->typtype == TYPTYPE_DOMAIN &&
		mg_type_ownercheck(domainid, GetUserId()) &&
		!(alter->subtype == 'O' && ((Form_pg_type) GETSTRUCT(tup))->typnotnull);
	ReleaseSysCache(tup);
	if (scans)
		lock_domain_users(stmt, domainid);
}

/*
 * ALTER TABLE/INDEX/MATERIALIZED VIEW ALL IN TABLESPACE, as AlterTableMoveAll
 * picks the relations: pg_class scanned for the tablespace (the database's
 * default one is InvalidOid there), no catalog, shared, temporary or TOAST
 * relation, only the kind asked for and the roles named, each ACCESS
 * EXCLUSIVE after its owner check, which ends the statement for a relation
 * the user does not own.  NOWAIT never waits, so nothing is named for it.
 */
static void
move_all_locks(MigguardStatement *stmt, Node *parsetree)
{
	AlterTableMoveAllStmt *move = (AlterTableMoveAllStmt *) parsetree;
	Oid			origid = get_tablespace_oid(move->orig_tablespacename, true);
	Oid			newid = get_tablespace_oid(move->new_tablespacename, true);
	List	   *roles = NIL;
	ListCell   *lc;
	Relation	classrel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;

	if (move->nowait || !OidIsValid(origid) || !OidIsValid(newid) ||
		origid == GLOBALTABLESPACE_OID || newid == GLOBALTABLESPACE_OID)
		return;
	if (origid == MyDatabaseTableSpace)
		origid = InvalidOid;
	if (newid == MyDatabaseTableSpace)
		newid = InvalidOid;
	if (origid == newid)
		return;
	foreach(lc, move->roles)
	{
		Oid			roleid = get_rolespec_oid(lfirst(lc), true);

		if (!OidIsValid(roleid))
			return;
		roles = lappend_oid(roles, roleid);
	}

	classrel = table_open(RelationRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_class_reltablespace, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(origid));
	scan = systable_beginscan(classrel, InvalidOid, false, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_class form = (Form_pg_class) GETSTRUCT(tup);

		if (IsCatalogNamespace(form->relnamespace) || form->relisshared ||
			isAnyTempNamespace(form->relnamespace) ||
			IsToastNamespace(form->relnamespace))
			continue;
		if ((move->objtype == OBJECT_TABLE &&
			 form->relkind != RELKIND_RELATION &&
			 form->relkind != RELKIND_PARTITIONED_TABLE) ||
			(move->objtype == OBJECT_INDEX &&
			 form->relkind != RELKIND_INDEX &&
			 form->relkind != RELKIND_PARTITIONED_INDEX) ||
			(move->objtype == OBJECT_MATVIEW &&
			 form->relkind != RELKIND_MATVIEW))
			continue;
		if (roles != NIL && !list_member_oid(roles, form->relowner))
			continue;
		if (!user_owns(form->oid))
			break;
		lock_relid(stmt, form->oid, AccessExclusiveLock);
	}
	systable_endscan(scan);
	table_close(classrel, AccessShareLock);
}

/*
 * Whether the statement replaces a table's storage without a table_rewrite
 * event (change_log.rewrite): VACUUM FULL and CLUSTER (cluster_rel ->
 * rebuild_relation), REFRESH MATERIALIZED VIEW without CONCURRENTLY
 * (refresh_by_heap_swap, WITH NO DATA too), SET TABLESPACE of a table to
 * another tablespace (ATExecSetTableSpace copies it to a new relfilenode),
 * also for each table ALL IN TABLESPACE moves.
 */
bool
migguard_statement_replaces_storage(const MigguardStatement *stmt,
									Node *parsetree)
{
	ListCell   *lc;

	foreach(lc, stmt->ops)
	{
		const MigguardOp *op = (const MigguardOp *) lfirst(lc);

		switch (op->kind)
		{
			case MG_OP_OTHER_LOCK:
				/* ALL IN TABLESPACE: each table it moves (move_all_locks) */
				if (IsA(parsetree, AlterTableMoveAllStmt) &&
					op->rel->relkind != RELKIND_INDEX &&
					op->rel->relkind != RELKIND_PARTITIONED_INDEX)
					return true;
				break;
			case MG_OP_REWRITE_MAINTENANCE:
				return true;
			case MG_OP_REFRESH_MATVIEW:
				if (!(op->flags & MG_F_CONCURRENTLY))
					return true;
				break;
			case MG_OP_SET_TABLESPACE:
				if (op->index == NULL && !(op->flags & MG_F_NO_OP))
					return true;
				break;
			default:
				break;
		}
	}
	return false;
}
