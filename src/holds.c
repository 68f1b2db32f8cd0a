/*-------------------------------------------------------------------------
 *
 * holds.c
 *		The locks that block reads or writes (SHARE and stronger) this
 *		transaction took on existing tables through statements migguard saw
 *		(DDL and LOCK TABLE, lockguard.c reports them): how long each was
 *		held, and the DML that runs under them (issue 15, items 2-4).
 *
 *	- strong_lock_held: classify.c asks for the holds of earlier
 *	  statements (migguard_holds_current);
 *	- dml_under_lock: while one of the holds is on a large table,
 *	  migguard_dml_watch is true, and migguard.c's ExecutorEnd hook has
 *	  dml_watch.c judge UPDATE, DELETE, MERGE and INSERT ... SELECT.
 *	  Otherwise that hook costs one test of that flag; it is set and
 *	  cleared only here, at the end of a statement that took such a lock,
 *	  at the abort of the subtransaction that took it, and at transaction
 *	  end;
 *	- hold times: at commit, abort or PREPARE TRANSACTION (and at the abort
 *	  of the subtransaction that took it), one server log line per relation
 *	  with the time from the start of the statement that took the lock
 *	  (its wait for the lock included: the queue behind it formed from
 *	  then) to the release, and the longest hold for the stats view
 *	  (migguard.stats, stats.c).  Nothing goes to change_log: at transaction end no row
 *	  can be written in the ending transaction, and one written by the
 *	  blocked-attempt worker would record a transaction that might still
 *	  be rolled back after the callback (README, "Lock hold times").
 *
 * Nothing of this runs in parallel workers: the hook that remembers holds
 * does not run there, so the flag stays false.
 *
 *-------------------------------------------------------------------------
 */
#include "holds.h"
#include "relsize.h"
#include "stats.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

bool		migguard_dml_watch = false;

/* MigguardHold *, in TopTransactionContext, forgotten at transaction end */
static List *holds = NIL;

static void holds_xact_callback(XactEvent event, void *arg);
static void holds_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
								   SubTransactionId parentSubid, void *arg);

void
migguard_holds_init(void)
{
	RegisterXactCallback(holds_xact_callback, NULL);
	RegisterSubXactCallback(holds_subxact_callback, NULL);
}

static void
recompute_watch(void)
{
	ListCell   *lc;

	migguard_dml_watch = false;
	foreach(lc, holds)
		if (((MigguardHold *) lfirst(lc))->large)
			migguard_dml_watch = true;
}

/*
 * A statement that started at since took a lock in mode on relid (an
 * existing table others can see).  The first statement that locks a
 * relation starts its hold; a later stronger lock keeps that start.  size
 * is the analysis' measure, or -1 when no rule needed it (measured here
 * then, once per relation and transaction).
 */
void
migguard_holds_remember(Oid relid, LOCKMODE mode, TimestampTz since,
						int64 size)
{
	MemoryContext oldcontext;
	MigguardHold *hold;
	ListCell   *lc;
	char	   *schema;
	char	   *name;

	foreach(lc, holds)
	{
		hold = (MigguardHold *) lfirst(lc);
		if (hold->relid == relid)
		{
			hold->mode = Max(hold->mode, mode);
			return;
		}
	}
	name = get_rel_name(relid);
	schema = get_namespace_name(get_rel_namespace(relid));
	if (name == NULL || schema == NULL)
		return;					/* the statement dropped it */

	oldcontext = MemoryContextSwitchTo(TopTransactionContext);
	hold = palloc0(sizeof(MigguardHold));
	hold->relid = relid;
	hold->mode = mode;
	hold->name = psprintf("%s.%s", schema, name);
	hold->large = (size >= 0 ? size : migguard_relation_size(relid)) >=
		(int64) migguard_large_table_size_kb * 1024;
	hold->since = since;
	hold->subid = GetCurrentSubTransactionId();
	holds = lappend(holds, hold);
	MemoryContextSwitchTo(oldcontext);
	if (hold->large)
		migguard_dml_watch = true;
}

/* The holds of this transaction on relations that still exist. */
List *
migguard_holds_current(void)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, holds)
	{
		MigguardHold *hold = (MigguardHold *) lfirst(lc);

		if (SearchSysCacheExists1(RELOID, ObjectIdGetDatum(hold->relid)))
			result = lappend(result, hold);
	}
	return result;
}

/* ----------------------------------------------------------------
 * Hold times
 * ----------------------------------------------------------------
 */

/*
 * "migguard: this transaction held AccessExclusiveLock on public.orders
 * for 4.2 s", to the server log only: no client sees it, and a log line at
 * transaction end cannot fail (no catalog access, the name was kept).  The
 * hold also goes to the stats view's "longest strong-lock hold" (shared
 * memory atomics, no lock: stats.c).
 */
static void
log_hold(const MigguardHold *hold, TimestampTz now, const char *until)
{
	int64		ms = TimestampDifferenceMilliseconds(hold->since, now);

	ereport(LOG_SERVER_ONLY,
			(errmsg("migguard: this transaction held %s on %s for %.1f s%s",
					GetLockmodeName(DEFAULT_LOCKMETHOD, hold->mode),
					hold->name, ms / 1000.0, until),
			 errhidestmt(true), errhidecontext(true)));
	migguard_stats_record_lock_hold(ms);
}

static void
holds_xact_callback(XactEvent event, void *arg)
{
	TimestampTz now;
	ListCell   *lc;

	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			break;
		default:
			return;
	}
	if (holds != NIL)
	{
		now = GetCurrentTimestamp();
		foreach(lc, holds)
			log_hold((MigguardHold *) lfirst(lc), now,
					 event == XACT_EVENT_PREPARE ?
					 " (until PREPARE TRANSACTION)" : "");
	}
	/* The memory goes with TopTransactionContext. */
	holds = NIL;
	migguard_dml_watch = false;
}

/*
 * A subtransaction's locks pass to its parent when it commits
 * (CommitSubTransaction) and are released when it aborts.
 */
static void
holds_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					   SubTransactionId parentSubid, void *arg)
{
	ListCell   *lc;

	if (holds == NIL)
		return;
	if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		foreach(lc, holds)
		{
			MigguardHold *hold = (MigguardHold *) lfirst(lc);

			if (hold->subid == mySubid)
				hold->subid = parentSubid;
		}
	}
	else if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		TimestampTz now = GetCurrentTimestamp();

		foreach(lc, holds)
		{
			MigguardHold *hold = (MigguardHold *) lfirst(lc);

			if (hold->subid != mySubid)
				continue;
			log_hold(hold, now, " (until its subtransaction rolled back)");
			holds = foreach_delete_current(holds, lc);
		}
		recompute_watch();
	}
}
