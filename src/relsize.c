/*-------------------------------------------------------------------------
 *
 * relsize.c
 *		Relation facts the rules need: real size, whether the relation was
 *		created in this transaction, and whether it holds a live row.
 *
 * Size follows pg_table_size: every fork of the heap plus its TOAST table
 * and TOAST index, indexes excluded, summed over all partitions.  It is
 * measured from the files (stat of every segment), not from pg_class
 * estimates that go stale after a bulk load, and it needs no lock on the
 * relation: the file names come from the catalog through the syscache.  A
 * file that disappears under a concurrent rewrite counts as empty; the
 * decision is made on what the catalog said a moment ago, as any other
 * reader would.
 *
 *-------------------------------------------------------------------------
 */
#include "migguard.h"

#include <sys/stat.h>
#include <unistd.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "common/relpath.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

/* Bytes in every segment of one fork; 0 when the file does not exist. */
static int64
fork_bytes(MgRelFile rf, ForkNumber fork)
{
	char	   *path = mg_relpath(rf, MG_INVALID_BACKEND, fork);
	char		segpath[MAXPGPATH];
	int64		total = 0;

	for (unsigned int segno = 0;; segno++)
	{
		struct stat st;

		if (segno == 0)
			snprintf(segpath, sizeof(segpath), "%s", path);
		else
			snprintf(segpath, sizeof(segpath), "%s.%u", path, segno);
		if (stat(segpath, &st) < 0)
			break;
		total += st.st_size;
	}
	pfree(path);
	return total;
}

/* All forks of one relation with storage, found through pg_class. */
static int64
storage_bytes(Oid relid)
{
	HeapTuple	tup;
	Form_pg_class cls;
	MgRelFile	rf;
	int64		total = 0;

	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		return 0;
	cls = (Form_pg_class) GETSTRUCT(tup);

	/* Temp tables are exempt; mapped catalogs have no relfilenode here. */
	if (cls->relpersistence == RELPERSISTENCE_TEMP || cls->relfilenode == InvalidOid)
	{
		ReleaseSysCache(tup);
		return 0;
	}
	MG_RELFILE_SET(rf,
				   OidIsValid(cls->reltablespace) ? cls->reltablespace : MyDatabaseTableSpace,
				   cls->relisshared ? InvalidOid : MyDatabaseId,
				   cls->relfilenode);
	ReleaseSysCache(tup);

	for (int fork = 0; fork <= MAX_FORKNUM; fork++)
		total += fork_bytes(rf, (ForkNumber) fork);
	return total;
}

/* The indexes of a TOAST table (normally exactly one). */
static int64
toast_index_bytes(Oid toastid)
{
	Relation	indrel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	int64		total = 0;

	indrel = table_open(IndexRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_index_indrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(toastid));
	scan = systable_beginscan(indrel, IndexIndrelidIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
		total += storage_bytes(((Form_pg_index) GETSTRUCT(tup))->indexrelid);
	systable_endscan(scan);
	table_close(indrel, AccessShareLock);
	return total;
}

/* pg_table_size of one relation with storage. */
static int64
table_bytes(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			toastid = InvalidOid;
	int64		total;

	if (HeapTupleIsValid(tup))
	{
		toastid = ((Form_pg_class) GETSTRUCT(tup))->reltoastrelid;
		ReleaseSysCache(tup);
	}
	total = storage_bytes(relid);
	if (OidIsValid(toastid))
		total += storage_bytes(toastid) + toast_index_bytes(toastid);
	return total;
}

/*
 * Size in bytes, heap + TOAST, summed over every partition of a
 * partitioned table.  Partitions are found through pg_inherits without
 * locking them; one dropped meanwhile simply counts as empty.
 */
int64
migguard_relation_size(Oid relid)
{
	char		relkind = get_rel_relkind(relid);
	List	   *children;
	ListCell   *lc;
	int64		total = 0;

	if (relkind != RELKIND_PARTITIONED_TABLE)
		return table_bytes(relid);

	children = find_all_inheritors(relid, NoLock, NULL);
	foreach(lc, children)
	{
		Oid			child = lfirst_oid(lc);

		if (get_rel_relkind(child) == RELKIND_RELATION ||
			get_rel_relkind(child) == RELKIND_MATVIEW)
			total += table_bytes(child);
	}
	list_free(children);
	return total;
}

/*
 * Created in the current transaction?  Nobody else can see such a table, so
 * no rule ever fires on it.  A pg_class row written by another transaction
 * settles it at once; one written by ours may also be a rewrite or a
 * rename, so the relcache, which records the creating subtransaction, has
 * the last word (we hold a lock on any relation our transaction altered).
 */
bool
migguard_relation_is_new(Oid relid)
{
	HeapTuple	tup;
	bool		touched_here;
	Relation	rel;
	bool		result;

	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		return false;
	touched_here = TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(tup->t_data));
	ReleaseSysCache(tup);
	if (!touched_here)
		return false;

	rel = RelationIdGetRelation(relid);
	if (!RelationIsValid(rel))
		return false;
	result = rel->rd_createSubid != InvalidSubTransactionId;
	RelationClose(rel);
	return result;
}

MigguardRelation *
migguard_describe_relation(Oid relid)
{
	MigguardRelation *rel = palloc0(sizeof(MigguardRelation));
	HeapTuple	tup;
	Form_pg_class cls;

	rel->relid = relid;
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
	{
		rel->name = psprintf("%u", relid);
		return rel;
	}
	cls = (Form_pg_class) GETSTRUCT(tup);
	rel->relkind = cls->relkind;
	rel->relpersistence = cls->relpersistence;
	rel->name = pstrdup(NameStr(cls->relname));
	rel->schema = get_namespace_name(cls->relnamespace);
	ReleaseSysCache(tup);

	rel->is_new = migguard_relation_is_new(relid);
	rel->size = -1;				/* measured on first use */
	return rel;
}

/*
 * The relation's size, measured on first use and remembered.  Measuring a
 * partitioned table stats every partition, so it happens only when a rule
 * that fires needs the size (or for the audit row of a plain table); a
 * statement no size-gated rule judges costs nothing per partition.
 */
int64
migguard_relation_bytes(const MigguardRelation *rel)
{
	MigguardRelation *memo = (MigguardRelation *) rel;

	if (memo->size < 0)
		memo->size = (!OidIsValid(rel->relid) || rel->is_new ||
					  rel->relpersistence == RELPERSISTENCE_TEMP) ? 0 :
			migguard_relation_size(rel->relid);
	return memo->size;
}

/*
 * One-row probe of one table.  Reading a heap needs a lock; we take the
 * statement's own lock mode, and only if it is free right now, so the hook
 * never waits and never holds a weaker lock the statement must upgrade.
 * When the lock is busy the answer is "non-empty" if the table has any
 * storage, the conservative choice for a destructive statement.
 */
static MigguardEmptiness
probe_one(Oid relid, LOCKMODE lockmode)
{
	Relation	rel;
	Snapshot	snapshot;
	TableScanDesc scan;
	TupleTableSlot *slot;
	bool		found;

	if (table_bytes(relid) == 0)
		return MG_EMPTINESS_EMPTY;
	if (!ConditionalLockRelationOid(relid, migguard_probe_lock(lockmode)))
		return MG_EMPTINESS_NONEMPTY;

	rel = table_open(relid, NoLock);
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	slot = table_slot_create(rel, NULL);
	scan = table_beginscan(rel, snapshot, 0, NULL);
	found = table_scan_getnextslot(scan, ForwardScanDirection, slot);
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	UnregisterSnapshot(snapshot);
	table_close(rel, NoLock);

	return found ? MG_EMPTINESS_NONEMPTY : MG_EMPTINESS_EMPTY;
}

/*
 * Whether the relation holds at least one live row.  A partitioned table
 * is judged by its partitions.
 */
MigguardEmptiness
migguard_probe_emptiness(MigguardRelation *rel, LOCKMODE lockmode)
{
	if (rel->emptiness != MG_EMPTINESS_UNKNOWN)
		return rel->emptiness;

	if (rel->relkind == RELKIND_PARTITIONED_TABLE)
	{
		List	   *children = find_all_inheritors(rel->relid, NoLock, NULL);
		ListCell   *lc;

		rel->emptiness = MG_EMPTINESS_EMPTY;
		foreach(lc, children)
		{
			Oid			child = lfirst_oid(lc);

			if (get_rel_relkind(child) == RELKIND_RELATION &&
				probe_one(child, lockmode) == MG_EMPTINESS_NONEMPTY)
			{
				rel->emptiness = MG_EMPTINESS_NONEMPTY;
				break;
			}
		}
	}
	else if (rel->relkind == RELKIND_RELATION || rel->relkind == RELKIND_MATVIEW)
		rel->emptiness = probe_one(rel->relid, lockmode);
	else
		rel->emptiness = MG_EMPTINESS_EMPTY;
	return rel->emptiness;
}
