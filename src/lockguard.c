/*-------------------------------------------------------------------------
 *
 * lockguard.c
 *		Lock-queue protection.  A statement that waits for a lock that blocks
 *		reads or writes (SHARE or stronger) of an existing table also blocks
 *		every later query on that table, which queues behind it: one long
 *		transaction plus one ALTER TABLE is an outage.  While such a statement
 *		runs, migguard
 *
 *	- applies migguard.lock_timeout, when the session's own lock_timeout is
 *	  0 or larger, to every DDL statement (migguard_is_ddl) and to every
 *	  other statement with such a lock, so the statement leaves the queue
 *	  instead of stalling it; a DDL kind stmtkind.c does not know gets it
 *	  too, never silently unprotected; the CONCURRENTLY forms of CREATE
 *	  INDEX, REINDEX and DROP INDEX do not (they wait for other
 *	  transactions, but queue nobody: migguard_stmt_waits_for_others_only);
 *	- takes the statement's protected locks ahead of it and retries them,
 *	  up to migguard.lock_retries more times, sleeping between attempts
 *	  with exponential back-off and jitter, so the queries that piled up
 *	  behind it run in the gap;
 *	- when the last attempt fails, keeps PostgreSQL's error (SQLSTATE 55P03)
 *	  and adds which sessions hold the conflicting locks.
 *
 * The design (issue 12, items 1-3): the user's statement never runs inside
 * a subtransaction, because that changes what PostgreSQL does: REINDEX or
 * CLUSTER of a mapped catalog refuse to change the relation map in a
 * subtransaction, REINDEX of a partitioned table calls
 * PreventInTransactionBlock, which fails there, and LOCK TABLE's
 * RequireTransactionBlock passes there.  Instead, for a statement that
 * runs inside the current transaction, each attempt is a tiny internal
 * subtransaction that only takes the statement's locks with
 * LockRelationOid, in the modes and order of the lock facts (classify.c and
 * stmtkind.c: the strongest mode the statement takes on each relation,
 * never one it would not take, the named relation before the indirect
 * ones), each waiting at most the lock timeout.  On 55P03 the
 * subtransaction is rolled back, which releases its locks, and after the
 * back-off the next attempt starts; on success it is released and its
 * locks pass to the enclosing transaction (CommitSubTransaction reassigns
 * them to the parent's resource owner).  Then the statement runs once, as
 * without migguard, with the timeout still set: any further lock it takes
 * is bounded too, and that error is final (no retry: the statement may
 * have done work that only a subtransaction could undo).
 *
 * Only relations the current user may lock that way are taken ahead
 * (classify.c and stmtkind.c name only relations the user could change,
 * with the test PostgreSQL applies before its lock).  No locks are taken
 * ahead of a statement that commits internally (stmtkind.c's table says
 * which), of a kind the table does not know, of LOCK TABLE outside a
 * transaction block (PostgreSQL refuses it at once), or in parallel mode
 * (no subtransaction there): those get the timeout only.
 *
 * The timeout is applied with a GUC nest level, as core does for function
 * SET clauses (fmgr_security_definer), so the session's value comes back
 * after the statement, and on error through the abort of the enclosing
 * (sub)transaction.  The statements that commit internally would pop a
 * nest level early; for them the setting's variable is swapped and
 * restored in PG_FINALLY instead.
 *
 * Which locks need protection is a lock fact of the analysis
 * (lockfacts.c), which also tells the analysis' own probe locks from the
 * ones the transaction held before the statement.
 *
 * After a checked statement, the locks of it that block reads or writes
 * of existing tables go to holds.c (strong_lock_held, dml_under_lock, hold
 * times), with the time the statement started.
 *
 *-------------------------------------------------------------------------
 */
#include "holds.h"
#include "lockfacts.h"
#include "lockguard.h"
#include "gate.h"
#include "stats.h"
#include "stmtkind.h"
#include "subxact.h"

#include <math.h>

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "commands/defrem.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "storage/sinvaladt.h"
#include "utils/acl.h"
#include "utils/backend_status.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

/* How much of a blocking session's query the error detail quotes. */
#define BLOCKER_QUERY_CHARS 60

/* A back-off delay never exceeds the largest migguard.lock_retry_delay. */
#define MAX_BACKOFF_MS (3600 * 1000)

/* One relation a statement locks, and in which mode. */
typedef struct LockFact
{
	Oid			relid;
	LOCKMODE	lockmode;
	int64		size;			/* held: the size if the analysis measured
								 * it, else -1 */
} LockFact;

struct MigguardLockGuard
{
	const char *command_tag;
	bool		ddl;			/* DDL: the timeout applies even with no lock
								 * migguard knows of */
	bool		in_transaction; /* runs inside the current transaction */
	bool		take_locks_first;	/* protected locks taken first, retried */
	int			nprotected;
	LockFact   *protected;		/* locks that may wait, SHARE or stronger */
	int			nheld;
	LockFact   *held;			/* SHARE or stronger on existing tables */
};

MigguardLockStats migguard_last_lock_stats;

/* ----------------------------------------------------------------
 * The guard: what the execution needs from the analysis
 * ----------------------------------------------------------------
 */

/*
 * Build the guard for a classified statement, in the given (longer-lived)
 * memory context: the analysis context is gone by the time the statement
 * runs.  NULL when there is nothing to protect and nothing to remember.
 */
MigguardLockGuard *
migguard_lock_guard(MigguardStatement *stmt, Node *parsetree, bool is_toplevel,
					MemoryContext context)
{
	MigguardLockGuard *guard;
	MemoryContext oldcontext;
	ListCell   *lc;
	int			n = 0;
	bool		ddl = migguard_is_ddl(parsetree);

	/* The CONCURRENTLY index forms queue nobody (stmtkind.c). */
	if (migguard_stmt_waits_for_others_only(parsetree))
		return NULL;

	foreach(lc, stmt->ops)
	{
		MigguardOp *op = (MigguardOp *) lfirst(lc);

		if (migguard_lock_blocks_others(op))
			n++;
	}
	if (n == 0 && !ddl)
		return NULL;

	oldcontext = MemoryContextSwitchTo(context);
	guard = palloc0(sizeof(MigguardLockGuard));
	guard->command_tag = stmt->command_tag;
	guard->ddl = ddl;
	guard->in_transaction = migguard_stmt_runs_in_transaction(parsetree);

	/*
	 * The locks are taken ahead of the statement only where that cannot
	 * change what PostgreSQL does: not where the statement is refused at
	 * once (LOCK TABLE outside a transaction block: RequireTransactionBlock
	 * in LockTableCommand's caller, standard_ProcessUtility), and not in
	 * parallel mode, which forbids subtransactions.
	 */
	guard->take_locks_first = guard->in_transaction && !IsInParallelMode() &&
		(!IsA(parsetree, LockStmt) ||
		 IsTransactionBlock() || IsSubTransaction() || !is_toplevel);
	guard->protected = palloc(Max(n, 1) * sizeof(LockFact));
	guard->held = palloc(Max(n, 1) * sizeof(LockFact));
	foreach(lc, stmt->ops)
	{
		MigguardOp *op = (MigguardOp *) lfirst(lc);

		if (!migguard_lock_blocks_others(op))
			continue;
		guard->held[guard->nheld].relid = op->rel->relid;
		guard->held[guard->nheld].lockmode = op->lockmode;
		guard->held[guard->nheld].size = op->rel->size;
		guard->nheld++;
		if (migguard_lock_needs_protection(stmt->analysis, op))
		{
			guard->protected[guard->nprotected].relid = op->rel->relid;
			guard->protected[guard->nprotected].lockmode = op->lockmode;
			guard->nprotected++;
		}
	}
	MemoryContextSwitchTo(oldcontext);
	return guard;
}

/* ----------------------------------------------------------------
 * Blocking sessions
 * ----------------------------------------------------------------
 */

/* pg_stat_activity's names for a backend state. */
static const char *
backend_state_name(BackendState state)
{
	switch (state)
	{
		case STATE_IDLE:
			return "idle";
		case STATE_RUNNING:
			return "active";
		case STATE_IDLEINTRANSACTION:
			return "idle in transaction";
		case STATE_FASTPATH:
			return "fastpath function call";
		case STATE_IDLEINTRANSACTION_ABORTED:
			return "idle in transaction (aborted)";
		case STATE_DISABLED:
			return "disabled";
		default:
			return "unknown state";
	}
}

/* The start of a query on one line, "..." when cut. */
static char *
query_excerpt(const char *raw)
{
	char	   *query = pgstat_clip_activity(raw);
	int			len = strlen(query);
	int			cut = pg_mbcharcliplen(query, len, BLOCKER_QUERY_CHARS);
	char	   *result;

	for (char *p = query; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	result = psprintf("%.*s%s", cut, query, cut < len ? "..." : "");
	pfree(query);
	return result;
}

/* One line of the error detail for the backend with this pid. */
static void
append_blocker(StringInfo buf, int pid)
{
	int			nbackends;

	if (buf->len > 0)
		appendStringInfoChar(buf, '\n');

	nbackends = pgstat_fetch_stat_numbackends();
	for (int i = 1; i <= nbackends; i++)
	{
		LocalPgBackendStatus *local = mg_local_beentry(i);
		PgBackendStatus *be;

		if (local == NULL || local->backendStatus.st_procpid != pid)
			continue;
		be = &local->backendStatus;

		/* The same visibility rule as pg_stat_activity. */
		if (!has_privs_of_role(GetUserId(), be->st_userid) &&
			!has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS))
		{
			appendStringInfo(buf, "Blocked by process %d (insufficient privilege to show its query).",
							 pid);
			return;
		}
		appendStringInfo(buf, "Blocked by process %d (%s", pid,
						 backend_state_name(be->st_state));
		if (be->st_xact_start_timestamp != 0)
			appendStringInfo(buf, ", transaction running for %.1f s",
							 TimestampDifferenceMilliseconds(be->st_xact_start_timestamp,
															 GetCurrentTimestamp()) / 1000.0);
		appendStringInfo(buf, "): %s", query_excerpt(be->st_activity_raw));
		return;
	}
	appendStringInfo(buf, "Blocked by process %d.", pid);
}

/*
 * Which sessions hold locks that conflict with the statement's, as error
 * detail lines.  Called after the failed attempt was rolled back, in a
 * healthy transaction, before the error is raised: the lock manager and
 * the activity snapshot are read here, never in the error path.
 */
static char *
describe_blockers(const MigguardLockGuard *guard)
{
	StringInfoData buf;
	List	   *pids = NIL;
	bool		prepared = false;

	initStringInfo(&buf);
	/* A snapshot taken earlier in the transaction would miss new sessions. */
	pgstat_clear_backend_activity_snapshot();

	for (int i = 0; i < guard->nprotected; i++)
	{
		LOCKTAG		tag;
		VirtualTransactionId *vxids;
		int			count;

		SET_LOCKTAG_RELATION(tag, MyDatabaseId, guard->protected[i].relid);
		vxids = GetLockConflicts(&tag, guard->protected[i].lockmode, &count);
		for (int j = 0; j < count; j++)
		{
			PGPROC	   *proc = NULL;

			if (MG_VXID_HAS_BACKEND(vxids[j]))
				proc = mg_vxid_proc(vxids[j]);

			/*
			 * A prepared transaction keeps the virtual transaction id of the
			 * backend that prepared it, which has moved on (or has none), yet
			 * it held the lock a moment ago.
			 */
			if (proc == NULL || proc == MyProc ||
				mg_proc_lxid(proc) != vxids[j].localTransactionId)
			{
				prepared = true;
				continue;
			}
			if (proc->pid == 0 || list_member_int(pids, proc->pid))
				continue;
			pids = lappend_int(pids, proc->pid);
			append_blocker(&buf, proc->pid);
		}
	}
	if (prepared)
		appendStringInfo(&buf, "%sBlocked by a prepared transaction (see pg_prepared_xacts).",
						 buf.len > 0 ? "\n" : "");
	if (pids == NIL && !prepared)
		appendStringInfoString(&buf, "The sessions that held conflicting locks have finished since.");
	return buf.data;
}

/* ----------------------------------------------------------------
 * Execution
 * ----------------------------------------------------------------
 */

/*
 * Sleep for ms, waking up for interrupts: cancel and terminate work while
 * we wait, and a dead postmaster ends the backend.
 */
static void
backoff_sleep(long ms)
{
	TimestampTz end = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ms);

	for (;;)
	{
		long		remaining = TimestampDifferenceMilliseconds(GetCurrentTimestamp(),
																end);

		if (remaining <= 0)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 remaining, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * The delay before retry number `retry` (1-based): the first delay doubled
 * for each earlier retry, times a random factor in [0.75, 1.25) so that
 * several migrations blocked by the same session do not retry in step.
 */
static long
backoff_delay(int retry)
{
	double		delay = migguard_lock_retry_delay_ms * pow(2.0, retry - 1);

	delay *= 0.75 + 0.5 * mg_random_fraction();
	return (long) Min(delay, (double) MAX_BACKOFF_MS);
}

static void
take_protected_locks(void *arg)
{
	const MigguardLockGuard *guard = (const MigguardLockGuard *) arg;

	for (int i = 0; i < guard->nprotected; i++)
		LockRelationOid(guard->protected[i].relid,
						guard->protected[i].lockmode);
}

/*
 * One attempt at the statement's own locks, each waiting at most the lock
 * timeout, in an internal subtransaction that takes nothing but these
 * locks (LockRelationOid, as the statement's RangeVarGetRelidExtended or
 * table_open would).  NULL on success: the subtransaction is released and
 * its locks pass to the enclosing transaction (CommitSubTransaction
 * reassigns them to the parent resource owner).  The error on a lock
 * timeout, with the attempt rolled back and its locks gone; any other
 * error is re-thrown after the rollback.  The user's statement never runs
 * in here.
 */
static ErrorData *
lock_attempt(const MigguardLockGuard *guard)
{
	ErrorData  *edata = migguard_subtransaction(take_protected_locks,
											   (void *) guard, true);

	if (edata != NULL && edata->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE)
		ReThrowError(edata);
	return edata;
}

/* The last attempt timed out: PostgreSQL's error, plus who blocked us. */
static void
raise_lock_timeout(ErrorData *edata, char *blockers, int attempts,
				   int timeout_ms)
{
	ereport(ERROR,
			(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
			 errmsg_internal("%s", edata->message),
			 errdetail_internal("%s", blockers),
			 errhint("Retry when the blocking transactions have finished, or end them with pg_terminate_backend(pid). "
					 "migguard tried the statement %d %s with a lock timeout of %d ms.",
					 attempts, attempts == 1 ? "time" : "times", timeout_ms)));
}

/*
 * Take the statement's protected locks first: on a lock timeout back off
 * and try again, up to migguard.lock_retries more times; after the last
 * one raise PostgreSQL's error with who blocked us.  The caller has set
 * the timeout.
 */
static void
take_locks_with_retries(const MigguardLockGuard *guard, int timeout_ms,
						MigguardLockStats *stats)
{
	for (;;)
	{
		TimestampTz start = GetCurrentTimestamp();
		ErrorData  *edata;
		long		delay;

		stats->attempts++;
		edata = lock_attempt(guard);
		if (edata == NULL)
		{
			if (stats->attempts > 1)
				migguard_stats_add(MG_STAT_RETRIES_SUCCEEDED, 1);
			return;
		}
		stats->lock_wait_ms +=
			TimestampDifferenceMilliseconds(start, GetCurrentTimestamp());
		migguard_stats_add(MG_STAT_LOCK_TIMEOUTS, 1);
		migguard_stats_add(MG_STAT_LOCK_WAIT_MS,
						   TimestampDifferenceMilliseconds(start, GetCurrentTimestamp()));

		if (stats->attempts > migguard_lock_retries)
		{
			char	   *blockers = describe_blockers(guard);

			migguard_last_lock_stats = *stats;
			raise_lock_timeout(edata, blockers, stats->attempts, timeout_ms);
		}

		delay = backoff_delay(stats->attempts);
		migguard_stats_add(MG_STAT_RETRIES, 1);
		ereport(LOG,
				(errmsg("migguard: %s hit the lock timeout on attempt %d of %d, retrying in %ld ms",
						guard->command_tag, stats->attempts,
						migguard_lock_retries + 1, delay)));
		FreeErrorData(edata);

		backoff_sleep(delay);
	}
}

/*
 * A statement that runs inside the current transaction: the timeout is
 * set with a GUC nest level, as core does for a function's SET clause
 * (fmgr_security_definer), so the session's value comes back after the
 * statement, and on error with the abort of the enclosing (sub)transaction.
 * The protected locks are taken first, with retries; then the statement
 * runs as without migguard, at the transaction's own nesting level, and
 * any further lock it takes waits at most the timeout too (no retry: that
 * error is final).
 */
static void
run_in_transaction(const MigguardLockGuard *guard, int timeout_ms,
				   MigguardLockStats *stats,
				   ProcessUtility_hook_type next, MG_PROCESS_UTILITY_PARAMS)
{
	volatile int nestlevel = -1;

	if (timeout_ms != LockTimeout)
	{
		nestlevel = NewGUCNestLevel();
		(void) set_config_option("lock_timeout", psprintf("%d", timeout_ms),
								 PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
	}

	PG_TRY();
	{
		if (guard->take_locks_first && guard->nprotected > 0)
			take_locks_with_retries(guard, timeout_ms, stats);
		else
			stats->attempts = 1;
	}
	PG_CATCH();
	{
		/* The session's setting is back before the error is seen. */
		if (nestlevel >= 0)
			AtEOXact_GUC(true, nestlevel);
		PG_RE_THROW();
	}
	PG_END_TRY();

	next(MG_PROCESS_UTILITY_ARGS);

	if (nestlevel >= 0)
		AtEOXact_GUC(true, nestlevel);
}

/*
 * A statement that commits internally: a GUC nest level would be popped by
 * its first commit, so the setting's variable is swapped for the duration
 * and restored however the statement ends.  No retry.
 */
static void
run_with_timeout(int timeout_ms, ProcessUtility_hook_type next,
				 MG_PROCESS_UTILITY_PARAMS)
{
	int			saved = LockTimeout;

	LockTimeout = timeout_ms;
	PG_TRY();
	{
		next(MG_PROCESS_UTILITY_ARGS);
	}
	PG_FINALLY();
	{
		LockTimeout = saved;
	}
	PG_END_TRY();
}

/*
 * Run a checked statement under its guard (NULL: nothing to do).
 */
void
migguard_run_guarded(MigguardLockGuard *guard, ProcessUtility_hook_type next,
					 MG_PROCESS_UTILITY_PARAMS)
{
	int			timeout_ms = migguard_effective_lock_timeout();
	MigguardLockStats stats = {0};
	TimestampTz started = (guard != NULL && guard->nheld > 0) ?
		GetCurrentTimestamp() : 0;

	if (guard == NULL || timeout_ms == 0 ||
		(guard->nprotected == 0 && !guard->ddl))
	{
		/* Nothing to bound. */
		stats.attempts = 1;
		next(MG_PROCESS_UTILITY_ARGS);
	}
	else if (guard->in_transaction)
		run_in_transaction(guard, timeout_ms, &stats, next,
						   MG_PROCESS_UTILITY_ARGS);
	else
	{
		stats.attempts = 1;
		run_with_timeout(timeout_ms, next, MG_PROCESS_UTILITY_ARGS);
	}

	/* Nested statements ran meanwhile: this statement's numbers win. */
	migguard_last_lock_stats = stats;
	if (guard != NULL)
		for (int i = 0; i < guard->nheld; i++)
			migguard_holds_remember(guard->held[i].relid,
									guard->held[i].lockmode, started,
									guard->held[i].size);
}
