/*-------------------------------------------------------------------------
 *
 * chain.c
 *		The hash chain of migguard.change_log, and migguard.verify_log().
 *
 * Every row carries row_hash = SHA-256(prev || encoding(row)), where prev is
 * the row_hash of the row written just before it in this database (32 zero
 * bytes for the first), stored in the row as prev_hash, and prev_xid is the
 * (sub)transaction that wrote that previous row.  The encoding is fixed
 * (chain_encode_column): for each column, in this order: id, logged_at,
 * xid, pid, session_user_name, current_user_name, application_name,
 * client_addr, command_tag, objects, statement, lock_mode, table_size,
 * rewrite, verdict, findings, tag, nesting, attempts, lock_wait_ms, reason,
 * approval_id, prev_xid; a NULL is the byte 'N'; a value is the byte 'V',
 * its length as 4 bytes big-endian, and its text: integers, booleans
 * ('t'/'f') and xid8 in decimal, timestamptz as decimal microseconds since
 * 2000-01-01 UTC (no DateStyle or TimeZone involved), name and text as
 * stored, inet and jsonb as their output functions print them (jsonb's
 * output is canonical).
 *
 * Ordering: ids are drawn under one LWLock (audit.c's next_change_log_id),
 * and the chain link is made under the same acquisition, from a chain head
 * in shared memory per database (and change_log OID).  So id order is
 * chain order, for concurrent backends and the blocked-attempt worker
 * alike, whatever order their transactions commit in.
 *
 * Rolled-back rows: a row whose (sub)transaction aborts vanishes.  When
 * the next row is written after the abort, it chains to the row before the
 * rolled-back one (current_link); when the rolled-back writer was still
 * running then, the next row is chained to the vanished row.  verify_log() walks the rows in id
 * order; a row whose prev_hash is not the previous visible row's hash is a
 * break unless its prev_xid is aborted (the missing row was rolled back) or
 * still in progress (it will appear or be rolled back); a row deleted after
 * it committed has a committed prev_xid in its successor, so its deletion is
 * reported.  An UPDATE changes the row's encoding, so its row_hash no longer
 * matches.  purge() stores the hash of the last row it deletes in
 * migguard.log_anchor, where verify_log() starts.
 *
 * Id order is the order the rows were written in, not the order their
 * statements ran: the blocked-attempt worker writes a row when it gets to
 * it, so another session's rows may come before it (test/specs/
 * chain_interleaving).  Known gap: a row chained to another writer's row
 * while that one was running vouches for nothing before it once that row
 * rolls back, so a row deleted just before the rolled-back one is not
 * reported; closing it needs the vanished row's own link kept where its
 * abort does not take it.
 *
 * Chain heads: a fixed table of CHAIN_HEADS entries.  A database without an
 * entry (first write since the server started, or its entry was reused for
 * another database, least recently used first) reads its head from the
 * newest row of change_log, before taking the LWLock.
 *
 *-------------------------------------------------------------------------
 */
#include "migguard.h"
#include "catalog.h"
#include "chain.h"

#include "access/transam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/cryptohash.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/xid8.h"

#define CHAIN_HEADS 128
#define CHAIN_PENDING 16

/* One row of the chain as the head remembers it. */
typedef struct ChainLinkMemo
{
	bool		has_hash;		/* false: the chain starts (prev NULL) */
	uint8		hash[MG_HASH_LEN];
	FullTransactionId xid;		/* who wrote that row; invalid: committed */
} ChainLinkMemo;

/*
 * A database's chain head: the newest rows whose transactions were not yet
 * known to have committed (pending, newest last), over the newest row known
 * committed, or read from the table (base).
 */
typedef struct ChainHead
{
	Oid			dbid;			/* InvalidOid: free */
	Oid			relid;			/* change_log */
	uint64		last_used;		/* for reuse, least recently used first */
	ChainLinkMemo base;
	int			npending;
	ChainLinkMemo pending[CHAIN_PENDING];
} ChainHead;

typedef struct ChainShared
{
	uint64		clock;
	ChainHead	heads[CHAIN_HEADS];
} ChainShared;

static ChainShared *chain = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
#if MG_HAS_SHMEM_REQUEST_HOOK
static shmem_request_hook_type prev_shmem_request_hook = NULL;
#endif

static void
chain_shmem_request(void)
{
#if MG_HAS_SHMEM_REQUEST_HOOK
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
#endif
	RequestAddinShmemSpace(sizeof(ChainShared));
}

static void
chain_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	chain = ShmemInitStruct("migguard hash chain", sizeof(ChainShared), &found);
	if (!found)
		memset(chain, 0, sizeof(ChainShared));
	LWLockRelease(AddinShmemInitLock);
}

/* Called from _PG_init, in shared_preload_libraries only. */
void
migguard_chain_init(void)
{
#if MG_HAS_SHMEM_REQUEST_HOOK
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = chain_shmem_request;
#else
	chain_shmem_request();
#endif
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = chain_shmem_startup;
}

/* ----------------------------------------------------------------
 * Encoding
 * ----------------------------------------------------------------
 */

/* One column, as the top of the file says. */
void
migguard_chain_encode_column(StringInfo buf, Oid type, Datum value, bool isnull)
{
	char	   *out;
	char		number[32];
	uint32		len;
	uint8		be[4];

	if (isnull)
	{
		appendStringInfoChar(buf, 'N');
		return;
	}
	switch (type)
	{
		case INT4OID:
			snprintf(number, sizeof(number), "%d", DatumGetInt32(value));
			out = number;
			break;
		case INT8OID:
		case TIMESTAMPTZOID:
			snprintf(number, sizeof(number), INT64_FORMAT, DatumGetInt64(value));
			out = number;
			break;
		case XID8OID:
			snprintf(number, sizeof(number), UINT64_FORMAT,
					 U64FromFullTransactionId(DatumGetFullTransactionId(value)));
			out = number;
			break;
		case BOOLOID:
			out = DatumGetBool(value) ? "t" : "f";
			break;
		case NAMEOID:
			out = NameStr(*DatumGetName(value));
			break;
		case TEXTOID:
			out = TextDatumGetCString(value);
			break;
		case INETOID:
			out = DatumGetCString(DirectFunctionCall1(inet_out, value));
			break;
		case JSONBOID:
			out = DatumGetCString(DirectFunctionCall1(jsonb_out, value));
			break;
		default:
			elog(ERROR, "migguard: no chain encoding for type %u", type);
			return;
	}
	len = strlen(out);
	be[0] = (len >> 24) & 0xFF;
	be[1] = (len >> 16) & 0xFF;
	be[2] = (len >> 8) & 0xFF;
	be[3] = len & 0xFF;
	appendStringInfoChar(buf, 'V');
	appendBinaryStringInfo(buf, (char *) be, 4);
	appendBinaryStringInfo(buf, out, len);
}

/*
 * SHA-256 over prev (NULL: 32 zero bytes), the id, the middle columns
 * (encoded in order, id and prev_xid excluded) and prev_xid.
 */
void
migguard_chain_hash(const uint8 *prev, int64 id, const StringInfo middle,
					FullTransactionId prev_xid, uint8 *out)
{
	static const uint8 zeros[MG_HASH_LEN] = {0};
	StringInfoData edge;
	pg_cryptohash_ctx *ctx;

	initStringInfo(&edge);
	ctx = pg_cryptohash_create(PG_SHA256);
	if (pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, prev ? prev : zeros, MG_HASH_LEN) < 0)
		elog(ERROR, "migguard: SHA-256 failed: %s", pg_cryptohash_error(ctx));
	migguard_chain_encode_column(&edge, INT8OID, Int64GetDatum(id), false);
	if (pg_cryptohash_update(ctx, (uint8 *) edge.data, edge.len) < 0 ||
		pg_cryptohash_update(ctx, (uint8 *) middle->data, middle->len) < 0)
		elog(ERROR, "migguard: SHA-256 failed: %s", pg_cryptohash_error(ctx));
	resetStringInfo(&edge);
	migguard_chain_encode_column(&edge, XID8OID, FullTransactionIdGetDatum(prev_xid),
								 !FullTransactionIdIsValid(prev_xid));
	if (pg_cryptohash_update(ctx, (uint8 *) edge.data, edge.len) < 0 ||
		pg_cryptohash_final(ctx, out, MG_HASH_LEN) < 0)
		elog(ERROR, "migguard: SHA-256 failed: %s", pg_cryptohash_error(ctx));
	pg_cryptohash_free(ctx);
	pfree(edge.data);
}

/* ----------------------------------------------------------------
 * Chain heads
 * ----------------------------------------------------------------
 */

static ChainHead *
find_head(Oid relid)
{
	for (int i = 0; i < CHAIN_HEADS; i++)
		if (chain->heads[i].dbid == MyDatabaseId && chain->heads[i].relid == relid)
			return &chain->heads[i];
	return NULL;
}

/*
 * Whether this database has a chain head; call without the id LWLock.
 * Unlocked reads of a slot's key are only a hint: the caller checks again
 * under the lock.
 */
bool
migguard_chain_head_known(Oid relid)
{
	return chain != NULL && find_head(relid) != NULL;
}

/*
 * The newest row's row_hash, read through SPI (the caller is connected, as
 * change_log's owner, under the pinned search_path), before the LWLock is
 * taken.  That row is committed, so its writer needs no status check later.
 */
MigguardChainSeed
migguard_chain_read_seed(const char *target)
{
	MigguardChainSeed seed = {false};

	if (SPI_execute(psprintf("SELECT row_hash FROM %s ORDER BY id DESC LIMIT 1", target),
					true, 1) != SPI_OK_SELECT)
		elog(ERROR, "migguard: could not read the newest change_log row");
	if (SPI_processed == 1)
	{
		bool		isnull;
		Datum		value = SPI_getbinval(SPI_tuptable->vals[0],
										  SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull && VARSIZE_ANY_EXHDR(DatumGetPointer(value)) == MG_HASH_LEN)
		{
			bytea	   *b = DatumGetByteaPP(value);

			memcpy(seed.hash, VARDATA_ANY(b), MG_HASH_LEN);
			seed.has_hash = true;
		}
	}
	return seed;
}

/*
 * The link the next row chains to.  Rows whose transaction has rolled back
 * by now are taken off the head first, so a row written after a rolled-back
 * one chains to the row before it, and deleting that row is still detected;
 * only a row whose writer was still running when the next row chained
 * stays in the chain, and verify_log() accepts the gap because its
 * prev_xid aborted.  A pending row known committed becomes the base.
 * TransactionIdDidAbort and TransactionIdDidCommit read the commit log,
 * which takes no heavyweight lock.
 */
static ChainLinkMemo *
current_link(ChainHead *head)
{
	while (head->npending > 0 &&
		   TransactionIdDidAbort(XidFromFullTransactionId(head->pending[head->npending - 1].xid)))
		head->npending--;
	if (head->npending > 0 &&
		TransactionIdDidCommit(XidFromFullTransactionId(head->pending[head->npending - 1].xid)))
	{
		head->base = head->pending[head->npending - 1];
		head->npending = 0;
	}
	return head->npending > 0 ? &head->pending[head->npending - 1] : &head->base;
}

/*
 * Make the chain link of row id: call under the id LWLock, right after the
 * id was drawn.  Fills prev (has_prev false: the chain starts), prev_xid and
 * the row's hash, and makes this row the head.  seed is the newest row's
 * hash, read before the lock, for a database without a head.
 */
void
migguard_chain_link(Oid relid, int64 id, const StringInfo middle,
					const MigguardChainSeed *seed, MigguardChainLink *link)
{
	ChainHead  *head = find_head(relid);
	ChainLinkMemo *prev;
	ChainLinkMemo *mine;

	if (head == NULL)
	{
		/* A free entry, or the least recently used one. */
		head = &chain->heads[0];
		for (int i = 0; i < CHAIN_HEADS; i++)
		{
			if (chain->heads[i].dbid == InvalidOid)
			{
				head = &chain->heads[i];
				break;
			}
			if (chain->heads[i].last_used < head->last_used)
				head = &chain->heads[i];
		}
		head->dbid = MyDatabaseId;
		head->relid = relid;
		head->base.has_hash = seed->has_hash;
		memcpy(head->base.hash, seed->hash, MG_HASH_LEN);
		head->base.xid = InvalidFullTransactionId;
		head->npending = 0;
	}
	head->last_used = ++chain->clock;

	prev = current_link(head);
	link->has_prev = prev->has_hash;
	memcpy(link->prev, prev->hash, MG_HASH_LEN);
	link->prev_xid = prev->xid;
	migguard_chain_hash(link->has_prev ? link->prev : NULL, id, middle,
						link->prev_xid, link->hash);

	/* Full: the oldest pending row becomes the base. */
	if (head->npending == CHAIN_PENDING)
	{
		head->base = head->pending[0];
		memmove(&head->pending[0], &head->pending[1],
				sizeof(ChainLinkMemo) * (CHAIN_PENDING - 1));
		head->npending--;
	}
	mine = &head->pending[head->npending++];
	mine->has_hash = true;
	memcpy(mine->hash, link->hash, MG_HASH_LEN);
	mine->xid = GetCurrentFullTransactionId();
}

/* ----------------------------------------------------------------
 * verify_log()
 * ----------------------------------------------------------------
 */

/* The columns the hash covers after id, in order, and prev_xid. */
static const char *const middle_columns[] = {
	"logged_at", "xid", "pid", "session_user_name", "current_user_name",
	"application_name", "client_addr", "command_tag", "objects", "statement",
	"lock_mode", "table_size", "rewrite", "verdict", "findings", "tag",
	"nesting", "attempts", "lock_wait_ms", "reason", "approval_id"
};

const char *const *
migguard_chain_middle_columns(int *n)
{
	*n = lengthof(middle_columns);
	return middle_columns;
}

static bool
bytea_equals(Datum value, bool isnull, const uint8 *hash, bool has_hash)
{
	bytea	   *b;

	if (isnull || !has_hash)
		return isnull && !has_hash;
	b = DatumGetByteaPP(value);
	return VARSIZE_ANY_EXHDR(b) == MG_HASH_LEN &&
		memcmp(VARDATA_ANY(b), hash, MG_HASH_LEN) == 0;
}

/* Whether the row before a gap was rolled back, or may still be. */
static bool
writer_did_not_commit(Datum xid, bool isnull)
{
	Datum		status;
	char	   *s;
	LOCAL_FCINFO(fcinfo, 1);

	if (isnull)
		return false;
	/*
	 * A transaction this server never had (a log restored from another
	 * cluster): unknown, so the gap is reported; pg_xact_status would raise.
	 */
	if (FullTransactionIdFollowsOrEquals(DatumGetFullTransactionId(xid),
										 ReadNextFullTransactionId()))
		return false;
	InitFunctionCallInfoData(*fcinfo, NULL, 1, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = xid;
	fcinfo->args[0].isnull = false;
	status = pg_xact_status(fcinfo);
	if (fcinfo->isnull)
		return false;			/* too old to tell: report it */
	s = TextDatumGetCString(status);
	return strcmp(s, "aborted") == 0 || strcmp(s, "in progress") == 0;
}

PG_FUNCTION_INFO_V1(migguard_verify_log);

/*
 * The first id whose chain breaks, or NULL.  Reads change_log with the
 * caller's rights (SECURITY INVOKER, pinned search_path by its SQL
 * declaration), in id order, through a cursor.
 */
Datum
migguard_verify_log(PG_FUNCTION_ARGS)
{
	Oid			owner;
	Oid			relid = migguard_change_log(&owner);
	char	   *target;
	StringInfoData query;
	StringInfoData middle;
	Portal		portal;
	bool		has_h = false;
	uint8		h[MG_HASH_LEN];
	int64		after = PG_INT64_MIN;
	int64		broken = 0;
	bool		found_break = false;
	bool		chained = false;
	int			nmiddle = lengthof(middle_columns);

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("migguard.verify_log() needs the extension's table change_log")));
	target = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
										get_rel_name(relid));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	/* Where the chain starts: after what purge() removed. */
	if (SPI_execute("SELECT last_id, row_hash FROM migguard.log_anchor", true, 1) == SPI_OK_SELECT &&
		SPI_processed == 1)
	{
		bool		isnull;
		Datum		v = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			after = DatumGetInt64(v);
		v = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
		if (!isnull && VARSIZE_ANY_EXHDR(DatumGetPointer(v)) == MG_HASH_LEN)
		{
			memcpy(h, VARDATA_ANY(DatumGetByteaPP(v)), MG_HASH_LEN);
			has_h = true;
			chained = true;
		}
	}

	initStringInfo(&query);
	appendStringInfoString(&query, "SELECT id");
	for (int i = 0; i < nmiddle; i++)
		appendStringInfo(&query, ", %s", middle_columns[i]);
	appendStringInfo(&query, ", prev_xid, prev_hash, row_hash FROM %s WHERE id > $1 ORDER BY id",
					 target);
	{
		Oid			argtypes[1] = {INT8OID};
		Datum		args[1] = {Int64GetDatum(after)};

		portal = SPI_cursor_open_with_args(NULL, query.data, 1, argtypes, args,
										   NULL, true, 0);
	}

	initStringInfo(&middle);
	while (!found_break)
	{
		SPI_cursor_fetch(portal, true, 1000);
		if (SPI_processed == 0)
			break;
		for (uint64 r = 0; r < SPI_processed && !found_break; r++)
		{
			HeapTuple	tup = SPI_tuptable->vals[r];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			bool		isnull,
						xid_null,
						prev_null,
						hash_null;
			int64		id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
			Datum		prev_xid = SPI_getbinval(tup, desc, nmiddle + 2, &xid_null);
			Datum		prev = SPI_getbinval(tup, desc, nmiddle + 3, &prev_null);
			Datum		hash = SPI_getbinval(tup, desc, nmiddle + 4, &hash_null);
			uint8		prev_bytes[MG_HASH_LEN];
			uint8		computed[MG_HASH_LEN];

			if (hash_null)
			{
				/* Rows from before 1.1 carry no hash; later ones must. */
				if (chained)
				{
					broken = id;
					found_break = true;
				}
				continue;
			}
			chained = true;
			if (!prev_null && VARSIZE_ANY_EXHDR(DatumGetPointer(prev)) == MG_HASH_LEN)
				memcpy(prev_bytes, VARDATA_ANY(DatumGetByteaPP(prev)), MG_HASH_LEN);
			else if (!prev_null)
			{
				broken = id;
				found_break = true;
				continue;
			}

			resetStringInfo(&middle);
			for (int i = 0; i < nmiddle; i++)
			{
				Datum		v = SPI_getbinval(tup, desc, i + 2, &isnull);

				migguard_chain_encode_column(&middle, SPI_gettypeid(desc, i + 2), v, isnull);
			}
			migguard_chain_hash(prev_null ? NULL : prev_bytes, id, &middle,
								xid_null ? InvalidFullTransactionId :
								DatumGetFullTransactionId(prev_xid),
								computed);

			if (!bytea_equals(hash, false, computed, true) ||
				(!bytea_equals(prev, prev_null, h, has_h) &&
				 !writer_did_not_commit(prev_xid, xid_null)))
			{
				broken = id;
				found_break = true;
				continue;
			}
			memcpy(h, computed, MG_HASH_LEN);
			has_h = true;
		}
	}
	SPI_cursor_close(portal);
	SPI_finish();
	if (!found_break)
		PG_RETURN_NULL();
	PG_RETURN_INT64(broken);
}
