/*-------------------------------------------------------------------------
 *
 * blocked.c
 *		Blocked attempts in migguard.change_log, although their transaction
 *		aborts.
 *
 * A statement the guard blocks raises an ERROR, so a row written in its
 * transaction would vanish.  Instead, just before raising, the backend puts
 * a fixed-size record into a queue in shared memory (migguard.blocked_queue_size
 * records) and makes sure a background worker runs for its database.  The
 * worker connects to that database, takes its records out of the queue and
 * inserts them into change_log with verdict 'blocked', in transactions of
 * its own; it exits after a second without work (a connected worker would
 * hold up DROP DATABASE).  The attempt is always also in
 * the server log (report.c).  When the queue is full, or no worker can be
 * started, the server log says exactly which attempt was not recorded:
 * nothing is dropped silently.
 *
 * Locking: one LWLock protects the queue and the table of running workers.
 * A worker clears its slot under the same lock acquisition in which it
 * finds the queue empty for its database, so an attempt enqueued after that
 * always starts a new worker.
 *
 *-------------------------------------------------------------------------
 */
#include "migguard.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "commands/dbcommands.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#define BLOCKED_TEXT_LEN	2048
#define MAX_BLOCKED_WORKERS 8
/*
 * A worker connected to a database blocks DROP DATABASE, which waits up to
 * five seconds for other sessions to leave: the worker leaves well before.
 */
#define WORKER_IDLE_EXIT_MS 1000
#define WORKER_POLL_MS		100

/* One blocked attempt, as it will be written to change_log. */
typedef struct BlockedRecord
{
	Oid			dbid;
	TimestampTz logged_at;
	FullTransactionId xid;
	int			pid;
	int			nesting;
	int64		table_size;
	char		session_user_name[NAMEDATALEN];
	char		current_user_name[NAMEDATALEN];
	char		application_name[NAMEDATALEN];
	char		command_tag[NAMEDATALEN];
	char		lock_mode[NAMEDATALEN];
	char		tag[NAMEDATALEN * 2];
	char		statement[BLOCKED_TEXT_LEN];
	char		findings[BLOCKED_TEXT_LEN];
} BlockedRecord;

typedef struct BlockedQueue
{
	LWLock	   *lock;
	int			capacity;
	int			count;			/* records[0 .. count-1] are in use */
	Oid			worker_dbs[MAX_BLOCKED_WORKERS];	/* InvalidOid: free slot */
	BlockedRecord records[FLEXIBLE_ARRAY_MEMBER];
} BlockedQueue;

/* migguard.blocked_queue_size: records the queue holds (PGC_POSTMASTER). */
int			migguard_blocked_queue_size = 1024;

static BlockedQueue *queue = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
#if MG_HAS_SHMEM_REQUEST_HOOK
static shmem_request_hook_type prev_shmem_request_hook = NULL;
#endif

PGDLLEXPORT void migguard_blocked_worker_main(Datum main_arg);

static Size
queue_size(void)
{
	return add_size(offsetof(BlockedQueue, records),
					mul_size(migguard_blocked_queue_size, sizeof(BlockedRecord)));
}

static void
blocked_shmem_request(void)
{
#if MG_HAS_SHMEM_REQUEST_HOOK
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
#endif
	RequestAddinShmemSpace(queue_size());
	RequestNamedLWLockTranche("migguard", 1);
}

static void
blocked_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	queue = ShmemInitStruct("migguard blocked attempts", queue_size(), &found);
	if (!found)
	{
		queue->lock = &(GetNamedLWLockTranche("migguard"))->lock;
		queue->capacity = migguard_blocked_queue_size;
		queue->count = 0;
		for (int i = 0; i < MAX_BLOCKED_WORKERS; i++)
			queue->worker_dbs[i] = InvalidOid;
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Called from _PG_init, in shared_preload_libraries only. */
void
migguard_blocked_init(void)
{
	DefineCustomIntVariable("migguard.blocked_queue_size",
							"Blocked attempts the shared-memory queue holds until a worker writes them.",
							"When the queue is full, the server log names each attempt not recorded.",
							&migguard_blocked_queue_size,
							1024,
							16, 1024 * 1024,
							PGC_POSTMASTER,
							0,
							NULL, NULL, NULL);

#if MG_HAS_SHMEM_REQUEST_HOOK
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = blocked_shmem_request;
#else
	blocked_shmem_request();
#endif
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = blocked_shmem_startup;
}

/* Copy a string into a fixed buffer, cut on a character boundary. */
static void
copy_text(char *dst, const char *src, int size)
{
	int			len;

	if (src == NULL)
	{
		dst[0] = '\0';
		return;
	}
	len = strlen(src);
	if (len >= size)
		len = pg_mbcliplen(src, len, size - 1);
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* Start a worker for dbid unless one runs; called with the lock held. */
static bool
ensure_worker(Oid dbid)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	int			free_slot = -1;

	for (int i = 0; i < MAX_BLOCKED_WORKERS; i++)
	{
		if (queue->worker_dbs[i] == dbid)
			return true;
		if (free_slot < 0 && queue->worker_dbs[i] == InvalidOid)
			free_slot = i;
	}
	if (free_slot < 0)
		return false;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "migguard");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "migguard_blocked_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "migguard blocked-attempt writer for database %u", dbid);
	snprintf(worker.bgw_type, BGW_MAXLEN, "migguard blocked-attempt writer");
	worker.bgw_main_arg = ObjectIdGetDatum(dbid);
	worker.bgw_notify_pid = 0;
	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
		return false;
	queue->worker_dbs[free_slot] = dbid;
	return true;
}

/*
 * Queue a blocked attempt for its database's change_log.  Never raises: the
 * caller is about to raise the real error.  What cannot be queued is named
 * in the server log.
 */
void
migguard_blocked_enqueue(MigguardStatement *stmt, List *findings, int nesting)
{
	BlockedRecord *rec;
	bool		queued = false;
	bool		worker = false;
	char	   *findings_json;
	LOCKMODE	lockmode;
	int64		table_size;

	if (queue == NULL || !migguard_audit_enabled || !OidIsValid(MyDatabaseId))
		return;
	/* No change_log here: the server log line is the record. */
	if (!OidIsValid(get_extension_oid("migguard", true)))
		return;
	findings_json = migguard_findings_json(findings);
	migguard_statement_lock_and_size(stmt, &lockmode, &table_size);

	LWLockAcquire(queue->lock, LW_EXCLUSIVE);
	if (queue->count < queue->capacity)
	{
		rec = &queue->records[queue->count++];
		rec->dbid = MyDatabaseId;
		rec->logged_at = GetCurrentStatementStartTimestamp();
		rec->xid = GetTopFullTransactionIdIfAny();
		rec->pid = MyProcPid;
		rec->nesting = nesting;
		rec->table_size = table_size;
		copy_text(rec->session_user_name, GetUserNameFromId(GetSessionUserId(), true), NAMEDATALEN);
		copy_text(rec->current_user_name, GetUserNameFromId(GetUserId(), true), NAMEDATALEN);
		copy_text(rec->application_name, application_name, NAMEDATALEN);
		copy_text(rec->command_tag, stmt->command_tag, NAMEDATALEN);
		copy_text(rec->lock_mode, lockmode ? GetLockmodeName(DEFAULT_LOCKMETHOD, lockmode) : "",
				  NAMEDATALEN);
		copy_text(rec->tag, migguard_tag, sizeof(rec->tag));
		copy_text(rec->statement, stmt->text, BLOCKED_TEXT_LEN);
		/* JSON cut in the middle would not parse: keep it whole or summarize. */
		if (strlen(findings_json) < BLOCKED_TEXT_LEN)
			copy_text(rec->findings, findings_json, BLOCKED_TEXT_LEN);
		else
			snprintf(rec->findings, BLOCKED_TEXT_LEN,
					 "[{\"rule\": \"%s\", \"level\": \"error\", \"message\": \"(findings too long to queue)\"}]",
					 migguard_rule_name(((MigguardFinding *) linitial(findings))->rule));
		queued = true;
		worker = ensure_worker(MyDatabaseId);
	}
	LWLockRelease(queue->lock);

	if (!queued)
		ereport(LOG,
				(errmsg("migguard: blocked-attempt queue is full; not recorded in change_log: %s",
						stmt->text),
				 errhint("Raise migguard.blocked_queue_size."),
				 errhidestmt(true)));
	else if (!worker)
		ereport(LOG,
				(errmsg("migguard: no background worker could start to record blocked attempts; queued until one can: %s",
						stmt->text),
				 errhint("Raise max_worker_processes."),
				 errhidestmt(true)));
}

/* Take this database's records out of the queue (up to max). */
static int
take_records(Oid dbid, BlockedRecord *out, int max, bool *exiting)
{
	int			taken = 0;
	int			kept = 0;

	LWLockAcquire(queue->lock, LW_EXCLUSIVE);
	for (int i = 0; i < queue->count; i++)
	{
		if (queue->records[i].dbid == dbid && taken < max)
			out[taken++] = queue->records[i];
		else
		{
			if (kept != i)
				queue->records[kept] = queue->records[i];
			kept++;
		}
	}
	queue->count = kept;

	/* Leaving: give up the slot in the same critical section. */
	if (taken == 0 && *exiting)
	{
		for (int i = 0; i < MAX_BLOCKED_WORKERS; i++)
			if (queue->worker_dbs[i] == dbid)
				queue->worker_dbs[i] = InvalidOid;
	}
	else
		*exiting = false;
	LWLockRelease(queue->lock);
	return taken;
}

static void
write_records(BlockedRecord *recs, int n)
{
	Oid			types[14] = {TIMESTAMPTZOID, TEXTOID, INT4OID, TEXTOID, TEXTOID,
		TEXTOID, TEXTOID, TEXTOID, TEXTOID, INT8OID, TEXTOID, TEXTOID,
	INT4OID, INT4OID};

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());

	if (!OidIsValid(get_extension_oid("migguard", true)))
		ereport(LOG,
				(errmsg("migguard: %d blocked attempts not recorded: extension migguard is not created in database \"%s\"",
						n, get_database_name(MyDatabaseId))));
	else
	{
		for (int i = 0; i < n; i++)
		{
			BlockedRecord *r = &recs[i];
			Datum		values[14];
			char		nulls[14];

			memset(nulls, ' ', sizeof(nulls));
			values[0] = TimestampTzGetDatum(r->logged_at);
			values[1] = CStringGetTextDatum(psprintf(UINT64_FORMAT, U64FromFullTransactionId(r->xid)));
			nulls[1] = FullTransactionIdIsValid(r->xid) ? ' ' : 'n';
			values[2] = Int32GetDatum(r->pid);
			values[3] = CStringGetTextDatum(r->session_user_name);
			values[4] = CStringGetTextDatum(r->current_user_name);
			values[5] = CStringGetTextDatum(r->application_name);
			nulls[5] = r->application_name[0] ? ' ' : 'n';
			values[6] = CStringGetTextDatum(r->command_tag);
			values[7] = CStringGetTextDatum(r->statement);
			values[8] = CStringGetTextDatum(r->lock_mode);
			nulls[8] = r->lock_mode[0] ? ' ' : 'n';
			values[9] = Int64GetDatum(r->table_size);
			nulls[9] = r->table_size >= 0 ? ' ' : 'n';
			values[10] = CStringGetTextDatum(r->findings);
			values[11] = CStringGetTextDatum(r->tag);
			nulls[11] = r->tag[0] ? ' ' : 'n';
			values[12] = Int32GetDatum(r->nesting);
			values[13] = Int32GetDatum(1);
			if (SPI_execute_with_args("INSERT INTO migguard.change_log "
									  "(logged_at, xid, pid, session_user_name, current_user_name,"
									  " application_name, command_tag, statement, lock_mode, table_size,"
									  " verdict, findings, tag, nesting, attempts) "
									  "VALUES ($1, $2::pg_catalog.xid8, $3, $4, $5, $6, $7, $8, $9, $10,"
									  " 'blocked', $11::pg_catalog.jsonb, $12, $13, $14)",
									  14, types, values, nulls, false, 0) != SPI_OK_INSERT)
				elog(ERROR, "could not insert into migguard.change_log");
		}
	}

	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
}

/* A worker that dies (or is terminated) gives its slot up. */
static void
release_worker_slot(int code, Datum arg)
{
	Oid			dbid = DatumGetObjectId(arg);

	if (queue == NULL)
		return;
	LWLockAcquire(queue->lock, LW_EXCLUSIVE);
	for (int i = 0; i < MAX_BLOCKED_WORKERS; i++)
		if (queue->worker_dbs[i] == dbid)
			queue->worker_dbs[i] = InvalidOid;
	LWLockRelease(queue->lock);
}

/*
 * The worker for one database: write its records, poll, leave when idle.
 */
void
migguard_blocked_worker_main(Datum main_arg)
{
	Oid			dbid = DatumGetObjectId(main_arg);
	BlockedRecord *batch = palloc(sizeof(BlockedRecord) * 64);
	long		idle_ms = 0;

	before_shmem_exit(release_worker_slot, main_arg);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(dbid, InvalidOid, 0);

	for (;;)
	{
		bool		exiting = idle_ms >= WORKER_IDLE_EXIT_MS;
		int			n = take_records(dbid, batch, 64, &exiting);

		if (exiting)
			break;
		if (n > 0)
		{
			write_records(batch, n);
			idle_ms = 0;
			continue;
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 WORKER_POLL_MS, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		idle_ms += WORKER_POLL_MS;
	}
	proc_exit(0);
}
