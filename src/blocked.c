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
 * the server log (act.c).  When the queue is full, or no worker can be
 * started, the server log says exactly which attempt was not recorded:
 * nothing is dropped silently.  The same queue takes the rows of statements
 * that took effect but whose own row could not be written (audit.c).
 *
 * The worker writes each record as change_log's owner, through audit.c's
 * one writer (change_log by OID, pinned search_path), one
 * subtransaction per record so that one bad record costs only itself, in
 * read-write transactions whatever the database's default.  It connects
 * even to a database that does not allow connections.  A worker that exits
 * abnormally (SIGTERM, a database that was dropped) names every record of
 * its database it had not written in the server log, so one database never
 * keeps records in the queue that no worker will write.  Records queued
 * when no worker could start get one as soon as any attempt is queued or a
 * worker leaves; for a database dropped meanwhile that worker cannot
 * connect, and its exit names them.
 *
 * Locking: one LWLock protects the queue and the table of running workers.
 * A worker clears its slot under the same lock acquisition in which it
 * finds the queue empty for its database, so an attempt enqueued after that
 * always starts a new worker.
 *
 *-------------------------------------------------------------------------
 */
#include "blocked.h"
#include "audit.h"
#include "catalog.h"
#include "json_out.h"

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
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "tcop/tcopprot.h"
#include "common/hashfn.h"
#include "utils/builtins.h"
#include "commands/dbcommands.h"
#include "utils/snapmgr.h"
#include "utils/guc.h"
#include "utils/memutils.h"
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

/*
 * One row, as it will be written to change_log: the row's numbers as they
 * are (its string pointers are not kept), its strings in fixed buffers.
 */
typedef struct BlockedRecord
{
	Oid			dbid;
	MigguardLogRow numbers;		/* string fields NULL: see text_fields */
	char		session_user_name[NAMEDATALEN];
	char		current_user_name[NAMEDATALEN];
	char		application_name[NAMEDATALEN];
	char		client_addr[64];
	char		command_tag[NAMEDATALEN];
	char		lock_mode[NAMEDATALEN];
	char		verdict[16];
	char		tag[NAMEDATALEN * 2];
	char		reason[NAMEDATALEN * 8];
	char		statement[BLOCKED_TEXT_LEN];
	char		findings[BLOCKED_TEXT_LEN];
	char		objects[BLOCKED_TEXT_LEN];
} BlockedRecord;

/*
 * The string columns of a row and the buffer a record keeps each in: one
 * table for both directions (fill_record, record_row).  A buffer that was
 * empty gives back NULL where the column may be NULL.  findings and objects
 * are JSON and are kept whole or summarized (copy_json).
 */
typedef struct TextField
{
	size_t		row_offset;		/* const char * in MigguardLogRow */
	size_t		record_offset;	/* char[size] in BlockedRecord */
	int			size;
	bool		empty_is_null;
	const char *const *json_keys;	/* JSON: the keys of its summary */
	const char *json_summary;
} TextField;

static const char *const finding_keys[] = {"rule", "level", "relation", "message", NULL};
static const char *const object_keys[] = {"type", "schema", "identity", NULL};

#define TEXT_FIELD(field, empty_is_null) \
	{offsetof(MigguardLogRow, field), offsetof(BlockedRecord, field), \
	 sizeof(((BlockedRecord *) 0)->field), empty_is_null, NULL, NULL}
#define JSON_FIELD(field, keys, summary) \
	{offsetof(MigguardLogRow, field), offsetof(BlockedRecord, field), \
	 sizeof(((BlockedRecord *) 0)->field), false, keys, summary}

static const TextField text_fields[] = {
	TEXT_FIELD(session_user_name, false),
	TEXT_FIELD(current_user_name, false),
	TEXT_FIELD(application_name, false),
	TEXT_FIELD(client_addr, true),
	TEXT_FIELD(command_tag, false),
	TEXT_FIELD(lock_mode, false),
	TEXT_FIELD(verdict, false),
	TEXT_FIELD(tag, false),
	TEXT_FIELD(reason, true),
	TEXT_FIELD(statement, false),
	JSON_FIELD(findings, finding_keys, "(findings too long to queue)"),
	JSON_FIELD(objects, object_keys, "(objects too long to queue)"),
};

typedef struct BlockedQueue
{
	LWLock	   *lock;
	LWLock	   *id_lock;		/* change_log ids (audit.c's next_change_log_id) */
	int			capacity;
	int			count;			/* records[0 .. count-1] are in use */
	Oid			worker_dbs[MAX_BLOCKED_WORKERS];	/* InvalidOid: free slot */
	BlockedRecord records[FLEXIBLE_ARRAY_MEMBER];
} BlockedQueue;

/* migguard.blocked_queue_size: records the queue holds (PGC_POSTMASTER). */
#define MG_DEFAULT_BLOCKED_QUEUE_SIZE 1024
int			migguard_blocked_queue_size = MG_DEFAULT_BLOCKED_QUEUE_SIZE;

static BlockedQueue *queue = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
#if MG_HAS_SHMEM_REQUEST_HOOK
static shmem_request_hook_type prev_shmem_request_hook = NULL;
#endif

PGDLLEXPORT void migguard_blocked_worker_main(Datum main_arg);
static bool migguard_blocked_enqueue_row(const MigguardLogRow *row);

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
	RequestNamedLWLockTranche("migguard", 2);
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
		queue->lock = &(GetNamedLWLockTranche("migguard"))[0].lock;
		queue->id_lock = &(GetNamedLWLockTranche("migguard"))[1].lock;
		queue->capacity = migguard_blocked_queue_size;
		queue->count = 0;
		for (int i = 0; i < MAX_BLOCKED_WORKERS; i++)
			queue->worker_dbs[i] = InvalidOid;
	}
	LWLockRelease(AddinShmemInitLock);

	/*
	 * The writer (audit.c) draws change_log ids under the queue's second
	 * LWLock, and leaves the rows it cannot write to the queue: it is lent
	 * both rather than calling up into this file.  Without migguard
	 * preloaded nothing is lent and nothing writes change_log.
	 */
	migguard_audit_attach_queue(queue->id_lock, migguard_blocked_enqueue_row);
}

/* Called from _PG_init, in shared_preload_libraries only. */
void
migguard_blocked_init(void)
{
	DefineCustomIntVariable("migguard.blocked_queue_size",
							"Blocked attempts the shared-memory queue holds until a worker writes them.",
							"When the queue is full, the server log names each attempt not recorded.",
							&migguard_blocked_queue_size,
							MG_DEFAULT_BLOCKED_QUEUE_SIZE,
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
 * Start a worker for every database that has queued records and none
 * running; called with the lock held.  Their worker could not start when
 * they were queued (no free slot), and a database that was dropped since
 * never queues again to start one.  A worker for a database that no longer
 * exists fails to connect, and its exit names the records in the server log
 * and takes them out of the queue (release_worker_slot), so they cannot
 * fill it for the other databases.
 */
static void
start_waiting_workers(void)
{
	for (int i = 0; i < queue->count; i++)
		if (!ensure_worker(queue->records[i].dbid))
			break;
}

/*
 * A JSON array, whole, or when it does not fit the one-element array
 * {key: null, ..., last_key: summary} that says so (keys NULL-terminated).
 */
static void
copy_json(char *dst, const char *json, int size, const char *const *keys,
		  const char *summary)
{
	StringInfoData body;

	if (strlen(json) < (size_t) size)
	{
		copy_text(dst, json, size);
		return;
	}
	initStringInfo(&body);
	migguard_json_begin_object(&body);
	for (int i = 0; keys[i] != NULL; i++)
		migguard_json_field(&body, keys[i], keys[i + 1] ? NULL : summary);
	migguard_json_end_object(&body);
	copy_text(dst, migguard_json_array(&body), size);
	pfree(body.data);
}

/* A row as a fixed-size record of this database. */
static void
fill_record(BlockedRecord *rec, const MigguardLogRow *row)
{
	rec->dbid = MyDatabaseId;
	rec->numbers = *row;
	for (int i = 0; i < (int) lengthof(text_fields); i++)
	{
		const TextField *f = &text_fields[i];
		const char *value = *(const char *const *) ((const char *) row + f->row_offset);
		char	   *buffer = (char *) rec + f->record_offset;

		*(const char **) ((char *) &rec->numbers + f->row_offset) = NULL;
		/* JSON cut in the middle would not parse: keep it whole or summarize. */
		if (f->json_keys != NULL)
			copy_json(buffer, value, f->size, f->json_keys, f->json_summary);
		else
			copy_text(buffer, value, f->size);
	}
}

/*
 * Queue a row for this database's change_log.  Never raises; false when the
 * queue is full (the caller logs the row).
 */
static bool
migguard_blocked_enqueue_row(const MigguardLogRow *row)
{
	BlockedRecord *rec;
	bool		queued = false;
	bool		worker = false;

	if (queue == NULL || !OidIsValid(MyDatabaseId))
		return false;

	LWLockAcquire(queue->lock, LW_EXCLUSIVE);
	if (queue->count < queue->capacity)
	{
		rec = &queue->records[queue->count++];
		fill_record(rec, row);
		queued = true;
		worker = ensure_worker(MyDatabaseId);
	}
	if (worker)
		start_waiting_workers();
	LWLockRelease(queue->lock);

	if (queued && !worker)
		ereport(LOG,
				(errmsg("migguard: no background worker could start to record blocked attempts; queued until one can: %s",
						row->statement),
				 errhint("Raise max_worker_processes."),
				 errhidestmt(true)));
	return queued;
}

static void record_row(const BlockedRecord *r, MigguardLogRow *row);

static void
queue_or_log(const MigguardLogRow *row)
{
	if (!migguard_blocked_enqueue_row(row))
		ereport(LOG,
				(errmsg("migguard: blocked-attempt queue is full; not recorded in change_log: %s",
						row->statement),
				 errhint("Raise migguard.blocked_queue_size."),
				 errhidestmt(true)));
}

/*
 * Repeated attempts (issue 16): a client that retries a blocked statement
 * in a loop (pg_repack's cleanup, a deploy script) must not flood
 * change_log.  The first attempt is queued as usual; identical attempts
 * from this backend in the REPEAT_WINDOW_MS after it are only counted
 * here, and one more row stands for all of them: its attempts is their
 * number, its logged_at the first of them.  That row is queued when this
 * backend's next blocked attempt is a different one or comes after the
 * window, or when the backend exits.  Identical means the same database,
 * statement text, findings, session and current user, tag and reason.  No
 * row changes after it is written, so the hash chain is unaffected.  The
 * server log says so at the first repeat of each window; every attempt
 * still gets its ERROR.
 */
#define REPEAT_WINDOW_MS 10000

static struct
{
	bool		active;
	uint64		key;
	TimestampTz first;			/* when the remembered attempt was queued */
	int			repeats;		/* identical attempts since, not yet queued */
	TimestampTz first_repeat;
	BlockedRecord record;		/* the remembered attempt */
}			last_attempt;

static uint64
attempt_key(const MigguardLogRow *row)
{
	StringInfoData buf;
	uint64		key;

	initStringInfo(&buf);
	/* Fields separated by a control character no identifier holds. */
	appendStringInfo(&buf, "%u\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s", MyDatabaseId,
					 row->statement, row->findings,
					 row->session_user_name ? row->session_user_name : "",
					 row->current_user_name ? row->current_user_name : "",
					 row->tag ? row->tag : "",
					 row->reason ? row->reason : "");
	key = hash_bytes_extended((const unsigned char *) buf.data, buf.len, 0);
	pfree(buf.data);
	return key;
}

/* Queue the row that stands for the counted repeats, if any. */
static void
flush_repeats(void)
{
	MigguardLogRow row;

	if (!last_attempt.active || last_attempt.repeats == 0)
		return;
	record_row(&last_attempt.record, &row);
	row.attempts = last_attempt.repeats;
	row.logged_at = last_attempt.first_repeat;
	last_attempt.repeats = 0;
	queue_or_log(&row);
}

static void
flush_repeats_at_exit(int code, Datum arg)
{
	flush_repeats();
}

/* Whether the attempt repeats the remembered one: then it is counted. */
static bool
count_repeat(const MigguardLogRow *row)
{
	uint64		key = attempt_key(row);

	if (last_attempt.active && last_attempt.key == key &&
		!TimestampDifferenceExceeds(last_attempt.first, GetCurrentTimestamp(),
									REPEAT_WINDOW_MS))
	{
		if (last_attempt.repeats++ == 0)
		{
			last_attempt.first_repeat = row->logged_at;
			ereport(LOG,
					(errmsg("migguard: blocked attempt repeated by this session; identical attempts in the next %d s are counted in one change_log row (its attempts): %s",
							REPEAT_WINDOW_MS / 1000, row->statement),
					 errhidestmt(true)));
		}
		return true;
	}
	flush_repeats();
	return false;
}

static void
remember_attempt(const MigguardLogRow *row)
{
	static bool registered = false;

	if (!registered)
	{
		before_shmem_exit(flush_repeats_at_exit, (Datum) 0);
		registered = true;
	}
	fill_record(&last_attempt.record, row);
	last_attempt.key = attempt_key(row);
	last_attempt.first = GetCurrentTimestamp();
	last_attempt.repeats = 0;
	last_attempt.active = true;
}

/*
 * Queue a blocked attempt for its database's change_log.  Never raises: the
 * caller is about to raise the real error.  What cannot be queued is named
 * in the server log.
 */
void
migguard_blocked_enqueue(MigguardStatement *stmt, List *findings, int nesting)
{
	MigguardLogRow row;
	LOCKMODE	lockmode;
	char	   *findings_json;

	if (queue == NULL || !migguard_audit_enabled || !OidIsValid(MyDatabaseId))
		return;
	/* No change_log here: the server log line is the record. */
	if (!OidIsValid(get_extension_oid("migguard", true)))
		return;

	memset(&row, 0, sizeof(row));
	migguard_statement_lock_and_size(stmt, &lockmode, &row.table_size);
	/* Whole findings, cut to the record; the server log line has them all. */
	findings_json = migguard_findings_json_within(findings, BLOCKED_TEXT_LEN);
	row.logged_at = GetCurrentStatementStartTimestamp();
	row.xid = GetTopFullTransactionIdIfAny();
	row.pid = MyProcPid;
	row.session_user_name = GetUserNameFromId(GetSessionUserId(), true);
	row.current_user_name = GetUserNameFromId(GetUserId(), true);
	row.application_name = application_name;
	row.command_tag = stmt->command_tag;
	row.objects = "[]";
	row.statement = stmt->text;
	row.lock_mode = lockmode ? GetLockmodeName(DEFAULT_LOCKMETHOD, lockmode) : NULL;
	row.verdict = "blocked";
	row.findings = findings_json;
	row.tag = migguard_tag;
	row.reason = migguard_reason;
	row.nesting = nesting;
	row.attempts = 1;

	if (count_repeat(&row))
		return;
	queue_or_log(&row);
	remember_attempt(&row);
}

/*
 * Move up to max queued records of database dbid into out, closing the gaps
 * they leave (order kept); returns how many were moved.  The caller holds
 * queue->lock exclusively.
 */
static int
remove_db_records(Oid dbid, BlockedRecord *out, int max)
{
	int			taken = 0;
	int			kept = 0;

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
	return taken;
}

/* Take this database's records out of the queue (up to max). */
static int
take_records(Oid dbid, BlockedRecord *out, int max, bool *exiting)
{
	int			taken;

	LWLockAcquire(queue->lock, LW_EXCLUSIVE);
	taken = remove_db_records(dbid, out, max);

	/* Leaving: give up the slot in the same critical section. */
	if (taken == 0 && *exiting)
	{
		for (int i = 0; i < MAX_BLOCKED_WORKERS; i++)
			if (queue->worker_dbs[i] == dbid)
				queue->worker_dbs[i] = InvalidOid;
		/* The slot it frees may be the one another database waits for. */
		start_waiting_workers();
	}
	else
		*exiting = false;
	LWLockRelease(queue->lock);
	return taken;
}

/*
 * The worker's batch: records taken out of the queue, and how many of them
 * are written or named in the log.  What an abnormal exit leaves between
 * the two is named by release_worker_slot.
 */
static BlockedRecord *batch = NULL;
static int	batch_count = 0;
static int	batch_done = 0;

static void
log_not_recorded(const BlockedRecord *r, const char *reason)
{
	ereport(LOG,
			(errmsg("migguard: not recorded in change_log (%s): %s", reason, r->statement),
			 errdetail("Verdict %s, session user %s, logged at %s.", r->verdict,
					   r->session_user_name, timestamptz_to_str(r->numbers.logged_at)),
			 errhidestmt(true)));
}

static void
record_row(const BlockedRecord *r, MigguardLogRow *row)
{
	*row = r->numbers;
	for (int i = 0; i < (int) lengthof(text_fields); i++)
	{
		const TextField *f = &text_fields[i];
		const char *buffer = (const char *) r + f->record_offset;

		*(const char **) ((char *) row + f->row_offset) =
			f->empty_is_null && buffer[0] == '\0' ? NULL : buffer;
	}
}

/* Write one record; what fails is named in the log. */
static void
write_record(const BlockedRecord *r, Oid relid, Oid owner)
{
	MigguardLogRow row;
	char	   *error;

	record_row(r, &row);
	if (!migguard_change_log_try_insert(&row, relid, owner, &error))
		log_not_recorded(r, error);
}

/*
 * Write the batch in one transaction.  The worker never waits for
 * change_log's lock: a transaction that waits keeps its snapshot, and CREATE
 * INDEX CONCURRENTLY in this database waits for every such snapshot
 * (WaitForOlderSnapshots).  When the lock is not free, false: the caller
 * keeps the batch and tries again after a short sleep.
 */
static bool
write_records(void)
{
	Oid			owner;
	Oid			relid;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	relid = migguard_change_log(&owner);
	if (OidIsValid(relid) && !ConditionalLockRelationOid(relid, RowExclusiveLock))
	{
		CommitTransactionCommand();
		return false;
	}
	PushActiveSnapshot(GetTransactionSnapshot());

	for (int i = 0; i < batch_count; i++)
	{
		if (OidIsValid(relid))
			write_record(&batch[i], relid, owner);
		else
			log_not_recorded(&batch[i], "extension migguard has no change_log in this database");
	}

	PopActiveSnapshot();
	CommitTransactionCommand();
	/* Committed (or logged): nothing of the batch is left to name. */
	batch_done = batch_count;
	pgstat_report_activity(STATE_IDLE, NULL);
	return true;
}

/*
 * A worker that dies (or is terminated) gives its slot up.  After an
 * abnormal exit (SIGTERM, a database that cannot be connected to), the
 * records of its batch it had not committed and those of its database still
 * queued are named in the server log and leave the queue: no worker may
 * ever write them, and they must not fill the queue for other databases.
 */
static void
release_worker_slot(int code, Datum arg)
{
	Oid			dbid = DatumGetObjectId(arg);
	BlockedRecord *left = NULL;
	int			nleft = 0;

	if (queue == NULL)
		return;
	if (code != 0)
	{
		for (int i = batch_done; i < batch_count; i++)
			log_not_recorded(&batch[i], "the background worker exited");
		batch_done = batch_count;
	}

	LWLockAcquire(queue->lock, LW_EXCLUSIVE);
	for (int i = 0; i < MAX_BLOCKED_WORKERS; i++)
		if (queue->worker_dbs[i] == dbid)
			queue->worker_dbs[i] = InvalidOid;
	if (code != 0)
	{
		/* malloc: no palloc while holding an LWLock in an exiting process. */
		left = malloc(sizeof(BlockedRecord) * Max(queue->count, 1));
		if (left != NULL)
			nleft = remove_db_records(dbid, left, queue->count);
	}
	LWLockRelease(queue->lock);

	for (int i = 0; i < nleft; i++)
		log_not_recorded(&left[i], "the background worker exited");
	free(left);
}

/*
 * The worker for one database: write its records, poll, leave when idle.
 */
void
migguard_blocked_worker_main(Datum main_arg)
{
	Oid			dbid = DatumGetObjectId(main_arg);
	long		idle_ms = 0;

	batch = MemoryContextAlloc(TopMemoryContext, sizeof(BlockedRecord) * 64);
	before_shmem_exit(release_worker_slot, main_arg);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	/* A database owner's ALLOW_CONNECTIONS false must not stop the audit. */
	BackgroundWorkerInitializeConnectionByOid(dbid, InvalidOid,
											  BGWORKER_BYPASS_ALLOWCONN);
	/* Nor a read-only default: the rows must be written. */
	SetConfigOption("default_transaction_read_only", "off",
					PGC_SUSET, PGC_S_OVERRIDE);

	for (;;)
	{
		bool		exiting = idle_ms >= WORKER_IDLE_EXIT_MS;

		batch_done = 0;
		batch_count = take_records(dbid, batch, 64, &exiting);
		if (exiting)
			break;
		if (batch_count > 0)
		{
			while (!write_records())
			{
				(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
								 WORKER_POLL_MS, PG_WAIT_EXTENSION);
				ResetLatch(MyLatch);
				CHECK_FOR_INTERRUPTS();
			}
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
