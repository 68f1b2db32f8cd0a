/*-------------------------------------------------------------------------
 *
 * relsize.c
 *		Relation facts the rules need: real size, whether the relation was
 *		created in this transaction, and whether it holds a live row.
 *
 * Size follows pg_table_size: every fork of the heap plus its TOAST table
 * and TOAST index, indexes excluded, summed over all partitions.  It is
 * measured from the files (a stat of each segment, up to the first short
 * one, as md.c counts them), not from pg_class
 * estimates that go stale after a bulk load, and it needs no lock on the
 * relation: the file names come from the catalog through the syscache.  A
 * file that disappears under a concurrent rewrite counts as empty; the
 * decision is made on what the catalog said a moment ago, as any other
 * reader would.
 *
 *-------------------------------------------------------------------------
 */
#include "migguard.h"
#include "lockfacts.h"
#include "relsize.h"

#include <dirent.h>
#include <fcntl.h>
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
#include "catalog/pg_namespace.h"
#include "catalog/pg_tablespace_d.h"
#include "catalog/index.h"
#include "common/relpath.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

/*
 * Files are stat()ed relative to their database directory, opened once per
 * measurement (AllocateDir: closed at abort), so each stat resolves one
 * file name instead of a whole path.  A measurement covers one partition
 * tree, which normally lives in one directory.
 */
typedef struct SizeWalk
{
	Oid			spcoid;
	Oid			dboid;
	DIR		   *dir;			/* NULL: not opened, or does not exist */
} SizeWalk;

static int
walk_dirfd(SizeWalk *walk, Oid spcoid, Oid dboid)
{
	if (walk->dir == NULL || walk->spcoid != spcoid || walk->dboid != dboid)
	{
		char	   *path = GetDatabasePath(dboid, spcoid);

		if (walk->dir != NULL)
			FreeDir(walk->dir);
		walk->dir = AllocateDir(path);
		walk->spcoid = spcoid;
		walk->dboid = dboid;
		pfree(path);
	}
	return walk->dir != NULL ? dirfd(walk->dir) : -1;
}

static void
walk_end(SizeWalk *walk)
{
	if (walk->dir != NULL)
		FreeDir(walk->dir);
	walk->dir = NULL;
}

/* What measuring a relation needs from pg_class: one syscache lookup. */
typedef struct StorageFacts
{
	char		relkind;
	char		relpersistence;
	bool		has_file;		/* not temp, not a mapped catalog */
	Oid			toastid;
	Oid			spcoid;
	Oid			dboid;
	Oid			filenode;
} StorageFacts;

/*
 * Bytes in every segment of one fork; 0 when the file does not exist.  As
 * md.c does, the walk stops at the first segment shorter than a full one:
 * only a full segment can have a successor (a later one left by a
 * truncation is empty).
 */
static int64
fork_bytes(SizeWalk *walk, const StorageFacts *facts, ForkNumber fork)
{
	int			fd = walk_dirfd(walk, facts->spcoid, facts->dboid);
	char		name[MAXPGPATH];
	int			len;
	int64		total = 0;

	if (fork == MAIN_FORKNUM)
		len = snprintf(name, sizeof(name), "%u", facts->filenode);
	else
		len = snprintf(name, sizeof(name), "%u_%s", facts->filenode, forkNames[fork]);

	for (unsigned int segno = 0;; segno++)
	{
		struct stat st;

		if (segno > 0)
			snprintf(name + len, sizeof(name) - len, ".%u", segno);
		if (fstatat(fd, name, &st, 0) < 0)
			break;
		total += st.st_size;
		if (st.st_size < (off_t) RELSEG_SIZE * BLCKSZ)
			break;
	}
	return total;
}

static bool
storage_facts(Oid relid, StorageFacts *facts)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Form_pg_class cls;

	if (!HeapTupleIsValid(tup))
		return false;
	cls = (Form_pg_class) GETSTRUCT(tup);
	facts->relkind = cls->relkind;
	facts->relpersistence = cls->relpersistence;
	facts->toastid = cls->reltoastrelid;
	/* Temp tables are exempt; mapped catalogs have no relfilenode here. */
	facts->has_file = cls->relpersistence != RELPERSISTENCE_TEMP &&
		OidIsValid(cls->relfilenode);
	facts->spcoid = OidIsValid(cls->reltablespace) ? cls->reltablespace :
		(cls->relisshared ? GLOBALTABLESPACE_OID : MyDatabaseTableSpace);
	facts->dboid = cls->relisshared ? InvalidOid : MyDatabaseId;
	facts->filenode = cls->relfilenode;
	ReleaseSysCache(tup);
	return true;
}

/* Every fork of one relation's files (the init fork only when unlogged). */
static int64
forks_bytes(SizeWalk *walk, const StorageFacts *facts)
{
	if (!facts->has_file)
		return 0;
	return fork_bytes(walk, facts, MAIN_FORKNUM) +
		fork_bytes(walk, facts, FSM_FORKNUM) +
		fork_bytes(walk, facts, VISIBILITYMAP_FORKNUM) +
		(facts->relpersistence == RELPERSISTENCE_UNLOGGED ?
		 fork_bytes(walk, facts, INIT_FORKNUM) : 0);
}

static int64
relation_forks_bytes(SizeWalk *walk, Oid relid)
{
	StorageFacts facts;

	return storage_facts(relid, &facts) ? forks_bytes(walk, &facts) : 0;
}

/*
 * The index of a TOAST table.  PostgreSQL names it pg_toast_<heap oid>_index
 * (and keeps the name across rewrites), so a syscache lookup by name finds
 * it; the pg_index scan is the fallback for anything unusual.
 */
static int64
toast_index_bytes(SizeWalk *walk, Oid heapid, Oid toastid)
{
	char		name[NAMEDATALEN];
	Oid			indexid;
	Relation	indrel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	int64		total = 0;

	snprintf(name, sizeof(name), "pg_toast_%u_index", heapid);
	indexid = get_relname_relid(name, PG_TOAST_NAMESPACE);
	if (OidIsValid(indexid) && IndexGetRelation(indexid, true) == toastid)
		return relation_forks_bytes(walk, indexid);

	indrel = table_open(IndexRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_index_indrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(toastid));
	scan = systable_beginscan(indrel, IndexIndrelidIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
		total += relation_forks_bytes(walk, ((Form_pg_index) GETSTRUCT(tup))->indexrelid);
	systable_endscan(scan);
	table_close(indrel, AccessShareLock);
	return total;
}

/* pg_table_size of one relation with storage, from its pg_class facts. */
static int64
table_bytes(SizeWalk *walk, Oid relid, const StorageFacts *facts)
{
	int64		total = forks_bytes(walk, facts);

	if (OidIsValid(facts->toastid))
		total += relation_forks_bytes(walk, facts->toastid) +
			toast_index_bytes(walk, relid, facts->toastid);
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
	SizeWalk	walk = {0};
	StorageFacts facts;
	List	   *children;
	ListCell   *lc;
	int64		total = 0;

	if (!storage_facts(relid, &facts))
		return 0;
	if (facts.relkind != RELKIND_PARTITIONED_TABLE)
	{
		total = table_bytes(&walk, relid, &facts);
		walk_end(&walk);
		return total;
	}

	children = find_all_inheritors(relid, NoLock, NULL);
	foreach(lc, children)
	{
		Oid			child = lfirst_oid(lc);

		if (storage_facts(child, &facts) &&
			(facts.relkind == RELKIND_RELATION || facts.relkind == RELKIND_MATVIEW))
			total += table_bytes(&walk, child, &facts);
	}
	walk_end(&walk);
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

/*
 * Whether migguard.check()'s caller could name the relation: USAGE on its
 * schema.  Always true in the hook, which never reports to anyone but the
 * statement's own author what PostgreSQL is about to do anyway.
 */
bool
migguard_caller_may_see(const MigguardAnalysis *cx, Oid relid)
{
	Oid			nspid;

	if (!cx->dry_run)
		return true;
	nspid = get_rel_namespace(relid);
	return OidIsValid(nspid) &&
		mg_namespace_aclcheck(nspid, GetUserId(), ACL_USAGE) == ACLCHECK_OK;
}

MigguardRelation *
migguard_describe_relation(const MigguardAnalysis *cx, Oid relid)
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

	/*
	 * migguard.check() reports only what its caller could name: a relation
	 * reached through the catalog (a referencing table of TRUNCATE CASCADE,
	 * an inheritance child) in a schema the caller has no USAGE on is
	 * neither named, sized, probed nor locked.  It keeps no OID, so nothing
	 * measures or opens it, and counts as holding rows, the conservative
	 * answer for the destructive rules.
	 */
	if (!migguard_caller_may_see(cx, relid))
	{
		ReleaseSysCache(tup);
		rel->relid = InvalidOid;
		rel->name = pstrdup(MIGGUARD_HIDDEN_RELATION);
		rel->size = 0;
		rel->emptiness = MG_EMPTINESS_NONEMPTY;
		return rel;
	}
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
		memo->size = (!OidIsValid(rel->relid) || migguard_relation_is_exempt(rel)) ? 0 :
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
probe_one(MigguardAnalysis *cx, Oid relid, LOCKMODE lockmode)
{
	Relation	rel;
	Snapshot	snapshot;
	TableScanDesc scan;
	TupleTableSlot *slot;
	bool		found;

	if (migguard_relation_size(relid) == 0)
		return MG_EMPTINESS_EMPTY;
	if (!migguard_probe_relation(cx, relid, lockmode))
		return MG_EMPTINESS_NONEMPTY;

	rel = table_open(relid, NoLock);
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	slot = table_slot_create(rel, NULL);
	scan = mg_table_beginscan(rel, snapshot, 0, NULL);
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
migguard_probe_emptiness(MigguardAnalysis *cx, MigguardRelation *rel,
						 LOCKMODE lockmode)
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

			/* check() does not open what its caller cannot see: assume rows */
			if (get_rel_relkind(child) == RELKIND_RELATION &&
				(!migguard_caller_may_see(cx, child) ||
				 probe_one(cx, child, lockmode) == MG_EMPTINESS_NONEMPTY))
			{
				rel->emptiness = MG_EMPTINESS_NONEMPTY;
				break;
			}
		}
	}
	else if (rel->relkind == RELKIND_RELATION || rel->relkind == RELKIND_MATVIEW)
		rel->emptiness = probe_one(cx, rel->relid, lockmode);
	else
		rel->emptiness = MG_EMPTINESS_EMPTY;
	return rel->emptiness;
}
