/*-------------------------------------------------------------------------
 *
 * compat.h
 *		The only file in migguard that tests PG_VERSION_NUM.
 *
 * Compiled (-Wall -Wextra -Werror) and tested on 15, 17, 18 and 19
 * (scripts/test.sh --all-versions).  The 13, 14 and 16 branches compile
 * untested: Debian no longer has packages of them.  Every other file
 * includes this header instead of spelling a version number.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGGUARD_COMPAT_H
#define MIGGUARD_COMPAT_H

#include "postgres.h"

#if PG_VERSION_NUM < 130000
#error "migguard needs PostgreSQL 13 or later"
#endif

/*
 * ProcessUtility hook signature: PostgreSQL 14 added readOnlyTree.
 */
#if PG_VERSION_NUM >= 140000
#define MG_PROCESS_UTILITY_PARAMS \
	PlannedStmt *pstmt, const char *queryString, bool readOnlyTree, \
	ProcessUtilityContext context, ParamListInfo params, \
	QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc
#define MG_PROCESS_UTILITY_ARGS \
	pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc
#else
#define MG_PROCESS_UTILITY_PARAMS \
	PlannedStmt *pstmt, const char *queryString, \
	ProcessUtilityContext context, ParamListInfo params, \
	QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc
#define MG_PROCESS_UTILITY_ARGS \
	pstmt, queryString, context, params, queryEnv, dest, qc
#endif

/* MarkGUCPrefixReserved replaced EmitWarningsOnPlaceholders in 15. */
#if PG_VERSION_NUM < 150000
#define MarkGUCPrefixReserved(prefix) EmitWarningsOnPlaceholders(prefix)
#endif

/*
 * Ownership checks became object_ownercheck() in 16, which names the
 * catalog: the *RelationId constants come from the catalog headers.
 */
#if PG_VERSION_NUM >= 160000
#include "catalog/pg_class.h"
#include "catalog/pg_database.h"
#include "catalog/pg_namespace.h"
#include "utils/acl.h"
#define mg_class_ownercheck(relid, roleid) \
	object_ownercheck(RelationRelationId, (relid), (roleid))
#define mg_namespace_ownercheck(nspid, roleid) \
	object_ownercheck(NamespaceRelationId, (nspid), (roleid))
#define mg_database_ownercheck(dbid, roleid) \
	object_ownercheck(DatabaseRelationId, (dbid), (roleid))
#define mg_class_aclcheck(relid, roleid, mode) \
	pg_class_aclcheck((relid), (roleid), (mode))
#define mg_type_ownercheck(typid, roleid) \
	object_ownercheck(TypeRelationId, (typid), (roleid))
#define mg_namespace_aclcheck(nspid, roleid, mode) \
	object_aclcheck(NamespaceRelationId, (nspid), (roleid), (mode))
#else
#define mg_class_ownercheck(relid, roleid) pg_class_ownercheck((relid), (roleid))
#define mg_namespace_ownercheck(nspid, roleid) \
	pg_namespace_ownercheck((nspid), (roleid))
#define mg_database_ownercheck(dbid, roleid) \
	pg_database_ownercheck((dbid), (roleid))
#define mg_class_aclcheck(relid, roleid, mode) \
	pg_class_aclcheck((relid), (roleid), (mode))
#define mg_type_ownercheck(typid, roleid) pg_type_ownercheck((typid), (roleid))
#define mg_namespace_aclcheck(nspid, roleid, mode) \
	pg_namespace_aclcheck((nspid), (roleid), (mode))
#endif

/* The *Recurse ALTER TABLE subcommands disappeared in 16. */
#if PG_VERSION_NUM >= 160000
#define MG_IS_ADD_COLUMN(t)		((t) == AT_AddColumn)
#define MG_IS_ADD_CONSTRAINT(t) ((t) == AT_AddConstraint)
#define MG_IS_DROP_COLUMN(t)	((t) == AT_DropColumn)
#define MG_IS_DROP_CONSTRAINT(t) ((t) == AT_DropConstraint)
#else
#define MG_IS_ADD_COLUMN(t)		((t) == AT_AddColumn || (t) == AT_AddColumnRecurse)
#define MG_IS_ADD_CONSTRAINT(t) \
	((t) == AT_AddConstraint || (t) == AT_AddConstraintRecurse)
#define MG_IS_DROP_COLUMN(t) \
	((t) == AT_DropColumn || (t) == AT_DropColumnRecurse)
#define MG_IS_DROP_CONSTRAINT(t) \
	((t) == AT_DropConstraint || (t) == AT_DropConstraintRecurse)
#endif

/*
 * Generated columns: 18 made VIRTUAL the default kind, which needs no
 * rewrite.  Before 18 every generated column is STORED.
 */
#if PG_VERSION_NUM >= 180000
#define MG_GENERATED_IS_STORED(constraint) \
	((constraint)->generated_kind == ATTRIBUTE_GENERATED_STORED)
#else
#define MG_GENERATED_IS_STORED(constraint) true
#endif

/*
 * ALTER COLUMN ... SET EXPRESSION exists from 17.  On a VIRTUAL generated
 * column (18) it rewrites nothing, but checks every row in phase 3 when
 * the column is NOT NULL (ATExecSetExpression sets verify_new_notnull).
 * 18 refuses it when the table has CHECK constraints; 19 allows it and
 * checks the enforced ones that read the column.  conenforced (18): NOT
 * ENFORCED constraints are never checked.
 */
#if PG_VERSION_NUM >= 170000
#define MG_IS_SET_EXPRESSION(t) ((t) == AT_SetExpression)
#else
#define MG_IS_SET_EXPRESSION(t) false
#endif
#if PG_VERSION_NUM >= 180000
#define MG_ATTRIBUTE_IS_VIRTUAL(att) \
	((att)->attgenerated == ATTRIBUTE_GENERATED_VIRTUAL)
#define MG_CONSTRAINT_IS_ENFORCED(conform) ((conform)->conenforced)
#else
#define MG_ATTRIBUTE_IS_VIRTUAL(att) false
#define MG_CONSTRAINT_IS_ENFORCED(conform) true
#endif
#if PG_VERSION_NUM >= 190000
#define MG_SET_EXPRESSION_CHECKS_CHECKS true
#else
#define MG_SET_EXPRESSION_CHECKS_CHECKS false
#endif

/*
 * The publications that list a table (pg_publication_rel): 19 split
 * GetRelationPublications into the included and the EXCEPT ones.
 */
#include "catalog/pg_publication.h"
#if PG_VERSION_NUM >= 190000
#define mg_relation_publications(relid) GetRelationIncludedPublications(relid)
#else
#define mg_relation_publications(relid) GetRelationPublications(relid)
#endif

/*
 * NOT NULL constraints are catalogued in pg_constraint from 18, and may be
 * NOT VALID: attnotnull is then already true although no row was checked,
 * and SET NOT NULL validates the constraint, scanning the table
 * (ATExecSetNotNull calls ATExecValidateConstraint).  The name of such an
 * unvalidated constraint, or NULL; before 18 attnotnull means checked.
 */
#if PG_VERSION_NUM >= 180000
#include "access/htup_details.h"
#include "catalog/pg_constraint.h"
#define MG_HAS_NOT_NULL_NOT_VALID true
static inline char *
mg_unvalidated_not_null(Oid relid, AttrNumber attnum)
{
	HeapTuple	tup = findNotNullConstraintAttnum(relid, attnum);
	char	   *name = NULL;

	if (!HeapTupleIsValid(tup))
		return NULL;
	if (!((Form_pg_constraint) GETSTRUCT(tup))->convalidated)
		name = pstrdup(NameStr(((Form_pg_constraint) GETSTRUCT(tup))->conname));
	heap_freetuple(tup);
	return name;
}
#else
#define MG_HAS_NOT_NULL_NOT_VALID false
#define mg_unvalidated_not_null(relid, attnum) ((char *) NULL)
#endif

/*
 * NOT ENFORCED CHECK and FOREIGN KEY constraints (18): never checked, no
 * triggers (gram.y's processCASbits makes them NOT VALID too).
 */
#if PG_VERSION_NUM >= 180000
#define MG_CONSTRAINT_NOT_ENFORCED(con) (!(con)->is_enforced)
#else
#define MG_CONSTRAINT_NOT_ENFORCED(con) false
#endif

/*
 * ALTER CONSTRAINT ... ENFORCED (18) on a NOT ENFORCED foreign key creates
 * its triggers and validates every row in phase 3
 * (ATExecAlterConstrEnforceability queues the check); 19 allows it on a
 * NOT ENFORCED CHECK constraint too, which is then checked against every
 * row (ATExecAlterCheckConstrEnforceability).  The constraint's name then,
 * and *contype CONSTRAINT_FOREIGN or CONSTRAINT_CHECK; else NULL.  Before 18 ALTER
 * CONSTRAINT changes deferrability only (cmd->def is a Constraint).
 */
#if PG_VERSION_NUM >= 190000
#define MG_ALTER_CHECK_ENFORCEABILITY true
#else
#define MG_ALTER_CHECK_ENFORCEABILITY false
#endif
#if PG_VERSION_NUM >= 180000
#include "utils/syscache.h"
static inline const char *
mg_alter_constraint_validates(Oid relid, AlterTableCmd *cmd, char *contype)
{
	ATAlterConstraint *ac = (ATAlterConstraint *) cmd->def;
	Oid			conoid;
	HeapTuple	tup;
	Form_pg_constraint con;
	bool		validates = false;

	if (!IsA(ac, ATAlterConstraint) || !ac->alterEnforceability || !ac->is_enforced)
		return NULL;
	conoid = get_relation_constraint_oid(relid, ac->conname, true);
	tup = SearchSysCache1(CONSTROID, ObjectIdGetDatum(conoid));
	if (!HeapTupleIsValid(tup))
		return NULL;
	con = (Form_pg_constraint) GETSTRUCT(tup);
	if (!con->conenforced && con->contype == CONSTRAINT_FOREIGN)
	{
		validates = true;
		*contype = con->contype;
	}
	else if (!con->conenforced && con->contype == CONSTRAINT_CHECK &&
			 MG_ALTER_CHECK_ENFORCEABILITY)
	{
		validates = true;
		*contype = con->contype;
	}
	ReleaseSysCache(tup);
	return validates ? ac->conname : NULL;
}
#else
#define mg_alter_constraint_validates(relid, cmd, contype) ((const char *) NULL)
#endif

/*
 * Temporal keys (18): PRIMARY KEY / UNIQUE (..., col WITHOUT OVERLAPS) is
 * built as a GiST index with exclusion semantics (transformIndexConstraint
 * sets iswithoutoverlaps), which ADD CONSTRAINT ... USING INDEX cannot
 * attach (it takes a unique btree index only); a FOREIGN KEY (..., PERIOD
 * col) compares its last column with && (ri_triggers.c), the others with =.
 */
#if PG_VERSION_NUM >= 180000
#define MG_CONSTRAINT_WITHOUT_OVERLAPS(con) ((con)->without_overlaps)
#define MG_FK_WITH_PERIOD(con) ((con)->fk_with_period)
#else
#define MG_CONSTRAINT_WITHOUT_OVERLAPS(con) false
#define MG_FK_WITH_PERIOD(con) false
#endif

/*
 * SET ACCESS METHOD on a partitioned table is allowed from 17 (a catalog
 * change only: no storage, ATExecSetAccessMethodNoStorage), and DEFAULT
 * (cmd->name NULL) names default_table_access_method
 * (ATPrepSetAccessMethod).
 */
#if PG_VERSION_NUM >= 170000
#define MG_HAS_PARTITIONED_ACCESS_METHOD true
#else
#define MG_HAS_PARTITIONED_ACCESS_METHOD false
#endif

/* DETACH PARTITION ... CONCURRENTLY exists from 14 on. */
#if PG_VERSION_NUM >= 140000
#define MG_HAS_DETACH_CONCURRENTLY true
#define MG_PARTCMD_CONCURRENT(pc) ((pc)->concurrent)
#else
#define MG_HAS_DETACH_CONCURRENTLY false
#define MG_PARTCMD_CONCURRENT(pc) false
#endif

/* REINDEX options moved into a DefElem list in 14. */
#if PG_VERSION_NUM >= 140000
#define MG_REINDEX_OPTIONS(stmt) ((stmt)->params)
#define MG_REINDEX_LEGACY_CONCURRENT(stmt) false
#else
#define MG_REINDEX_OPTIONS(stmt) NIL
#define MG_REINDEX_LEGACY_CONCURRENT(stmt) ((stmt)->concurrent)
#endif

/*
 * GUC "extra" memory: guc_malloc is exported from 16; before that guc.c
 * frees extra with free(), so plain malloc is the matching allocator.
 */
#if PG_VERSION_NUM >= 160000
#define mg_guc_malloc(size) guc_malloc(LOG, (size))
#else
#define mg_guc_malloc(size) malloc(size)
#endif

/* MERGE is a command type from 15 (dml_under_lock, holds.c). */
#if PG_VERSION_NUM >= 150000
#define MG_CMD_IS_MERGE(cmd) ((cmd) == CMD_MERGE)
#else
#define MG_CMD_IS_MERGE(cmd) false
#endif

/* LockHeldByMe gained an "or stronger" argument in 17. */
#if PG_VERSION_NUM >= 170000
#define mg_lock_held_by_me(tag, mode) LockHeldByMe((tag), (mode), false)
#else
#define mg_lock_held_by_me(tag, mode) LockHeldByMe((tag), (mode))
#endif

/*
 * Backends are numbered by ProcNumber from 17 (BackendId before);
 * ProcNumberGetProc lives in procarray.h, BackendIdGetProc in sinvaladt.h.
 */
#if PG_VERSION_NUM >= 170000
#include "storage/procarray.h"
#define MG_VXID_HAS_BACKEND(vxid) ((vxid).procNumber != INVALID_PROC_NUMBER)
#define mg_vxid_proc(vxid) ProcNumberGetProc((vxid).procNumber)
/* 17 moved PGPROC.lxid into PGPROC.vxid (storage/proc.h). */
#define mg_proc_lxid(proc) ((proc)->vxid.lxid)
#else
#include "storage/sinvaladt.h"
#define MG_VXID_HAS_BACKEND(vxid) ((vxid).backendId != InvalidBackendId)
#define mg_vxid_proc(vxid) BackendIdGetProc((vxid).backendId)
#define mg_proc_lxid(proc) ((proc)->lxid)
#endif

/* The local backend-status accessor was renamed in 16. */
#if PG_VERSION_NUM >= 160000
#define mg_local_beentry(i) pgstat_get_local_beentry_by_index(i)
#else
#define mg_local_beentry(i) pgstat_fetch_stat_local_beentry(i)
#endif

/* A random fraction in [0, 1): pg_prng from 15, random() before. */
#if PG_VERSION_NUM >= 150000
#include "common/pg_prng.h"
#define mg_random_fraction() pg_prng_double(&pg_global_prng_state)
#else
#define mg_random_fraction() ((double) random() / ((double) MAX_RANDOM_VALUE + 1))
#endif

/* raw_parser took a parse mode from 14. */
#if PG_VERSION_NUM >= 140000
#define mg_raw_parser(str) raw_parser((str), RAW_PARSE_DEFAULT)
#else
#define mg_raw_parser(str) raw_parser(str)
#endif

/*
 * InitMaterializedSRF arrived in 15 (SetSingleFuncCall in 15 beta); before,
 * a set-returning function built its tuplestore by hand.
 */
#include "funcapi.h"
/* funcapi.h stopped including tuplestore.h in 19; its users need it. */
#include "utils/tuplestore.h"
#if PG_VERSION_NUM >= 150000
#define mg_init_materialized_srf(fcinfo) InitMaterializedSRF((fcinfo), 0)
#else
#include "miscadmin.h"
static inline void
mg_init_materialized_srf(FunctionCallInfo fcinfo)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext oldcontext;
	TupleDesc	tupdesc;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		!(rsinfo->allowedModes & SFRM_Materialize))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	oldcontext = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = tuplestore_begin_heap(true, false, work_mem);
	rsinfo->setDesc = CreateTupleDescCopy(tupdesc);
	MemoryContextSwitchTo(oldcontext);
}
#endif

/*
 * Shared memory is requested from shmem_request_hook from 15 on; before,
 * directly from _PG_init.
 */
#if PG_VERSION_NUM >= 150000
#define MG_HAS_SHMEM_REQUEST_HOOK 1
#else
#define MG_HAS_SHMEM_REQUEST_HOOK 0
#endif

/* get_database_name moved from commands/dbcommands.h to lsyscache.h in 19. */
#if PG_VERSION_NUM >= 190000
#include "utils/lsyscache.h"
#endif

/*
 * table_beginscan took a flags argument (ScanOptions) in 19; SO_NONE asks
 * for the plain sequential scan the three-argument form gave.
 */
#if PG_VERSION_NUM >= 190000
#define mg_table_beginscan(rel, snapshot, nkeys, key) \
	table_beginscan((rel), (snapshot), (nkeys), (key), SO_NONE)
#else
#define mg_table_beginscan(rel, snapshot, nkeys, key) \
	table_beginscan((rel), (snapshot), (nkeys), (key))
#endif

/*
 * DomainHasConstraints can report volatile CHECK expressions from 19 on
 * (utils/typcache.h); NULL asks only whether there are constraints.
 */
#if PG_VERSION_NUM >= 190000
#define mg_domain_has_constraints(typid) DomainHasConstraints((typid), NULL)
#else
#define mg_domain_has_constraints(typid) DomainHasConstraints(typid)
#endif

/*
 * 19 folded CLUSTER into REPACK: one RepackStmt for CLUSTER, REPACK and
 * (internally) VACUUM FULL, its table a VacuumRelation.  migguard judges
 * them alike (cluster_rel rewrites the table under ACCESS EXCLUSIVE either
 * way).  Only CLUSTER without USING INDEX needs an index marked clustered;
 * REPACK without USING INDEX rewrites in physical order.
 */
#if PG_VERSION_NUM >= 190000
typedef RepackStmt MgClusterStmt;
#define T_MgClusterStmt T_RepackStmt
#define mg_cluster_relation(c) ((c)->relation ? (c)->relation->relation : NULL)
#define mg_cluster_needs_marked_index(c) \
	((c)->indexname == NULL && \
	 ((c)->command == REPACK_COMMAND_CLUSTER || (c)->usingindex))
#define mg_cluster_command_name(c) \
	((c)->command == REPACK_COMMAND_REPACK ? "REPACK" : "CLUSTER")
#else
typedef ClusterStmt MgClusterStmt;
#define T_MgClusterStmt T_ClusterStmt
#define mg_cluster_relation(c) ((c)->relation)
#define mg_cluster_needs_marked_index(c) ((c)->indexname == NULL)
#define mg_cluster_command_name(c) "CLUSTER"
#endif

/*
 * REPACK (CONCURRENTLY) (19): one named, not partitioned table, never in a
 * transaction block; ShareUpdateExclusiveLock for the copy, and
 * AccessExclusiveLock only to swap the files at the end (ExecRepack,
 * RepackLockLevel, rebuild_relation_finish_concurrent).  Before 19 there
 * is no online rewrite in core: the hint names pg_repack.
 */
#if PG_VERSION_NUM >= 190000
#define mg_cluster_concurrently(c) \
	((c)->command == REPACK_COMMAND_REPACK && \
	 migguard_defelem_is_true((c)->params, "concurrently"))
#define MG_HAS_REPACK_CONCURRENTLY true
#else
#define mg_cluster_concurrently(c) false
#define MG_HAS_REPACK_CONCURRENTLY false
#endif

/*
 * The MAINTAIN privilege (17): VACUUM, ANALYZE, CLUSTER, REFRESH
 * MATERIALIZED VIEW, REINDEX and LOCK TABLE are allowed to whoever holds it
 * on the table (its owner by default, members of pg_maintain), where 16 and
 * before asked for the owner (vacuum_is_permitted_for_relation,
 * RangeVarCallbackMaintainsTable, RangeVarCallbackForReindexIndex).
 */
#if PG_VERSION_NUM >= 170000
#include "utils/acl.h"
#define mg_user_maintains_relation(relid, roleid) \
	(pg_class_aclcheck((relid), (roleid), ACL_MAINTAIN) == ACLCHECK_OK)
#define MG_ACL_MAINTAIN ACL_MAINTAIN
#else
#define mg_user_maintains_relation(relid, roleid) \
	mg_class_ownercheck((relid), (roleid))
#define MG_ACL_MAINTAIN 0
#endif

/*
 * LOCK TABLE's privileges (LockTableAclCheck): from 16 on UPDATE, DELETE or
 * TRUNCATE (and MAINTAIN from 17) permit every mode, SELECT up to ACCESS
 * SHARE, INSERT up to ROW EXCLUSIVE; 15 asked for SELECT in ACCESS SHARE
 * only, INSERT in ROW EXCLUSIVE only.
 */
#if PG_VERSION_NUM >= 160000
#define MG_LOCK_TABLE_ACL_BY_LEVEL true
#else
#define MG_LOCK_TABLE_ACL_BY_LEVEL false
#endif

/* PG_MODULE_MAGIC_EXT appeared in 18. */
#if PG_VERSION_NUM >= 180000
#define MG_MODULE_MAGIC PG_MODULE_MAGIC_EXT(.name = "migguard", .version = "1.0")
#else
#define MG_MODULE_MAGIC PG_MODULE_MAGIC
#endif

#endif							/* MIGGUARD_COMPAT_H */
