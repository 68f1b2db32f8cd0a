/*-------------------------------------------------------------------------
 *
 * audit.c
 *		Record every executed schema change in migguard.change_log: the
 *		audit entries of running statements and the one change_log writer.
 *
 * The hook opens an audit entry for each DDL statement before running it
 * (migguard_audit_begin), the event triggers add the objects the statement
 * created, altered or dropped to the innermost open entry, and when the
 * statement returns the hook writes one row (migguard_audit_end) in the
 * statement's own transaction: a rolled-back migration leaves no row, just
 * as it leaves no schema change.  A statement that fails simply closes its
 * entry (migguard_audit_abort).
 *
 * Entries live in their own memory context under TopMemoryContext, because
 * statements such as CREATE INDEX CONCURRENTLY commit and start
 * transactions while they run.  The row is inserted through SPI as the
 * owner of change_log, so no other role needs, or gets, write access.
 *
 * Security: the INSERT runs as change_log's owner (a superuser), so nothing
 * in it may be found through the caller's search_path.  change_log is the
 * table that is a member of extension migguard (pg_depend), found by OID;
 * the INSERT names it by the schema and name that OID has now, runs under a
 * pinned search_path = pg_catalog, pg_temp (as fmgr_security_definer pins
 * a function's SET clause), and takes every value as a parameter of the
 * column's own type, computed in C: no operator, function or cast is looked
 * up by name.  The kept plan is prepared again whenever that name changes.
 *
 * Robustness: the audit never lets a statement wait unbounded and never
 * turns a statement that took effect into an error.  A transactional
 * statement takes change_log's ROW EXCLUSIVE lock before it runs, waiting at
 * most migguard.lock_timeout, so it never queues behind change_log while
 * holding its own locks; its row is written in its transaction.  A statement
 * that cannot run in a transaction block (DROP DATABASE, ALTER SYSTEM,
 * CREATE INDEX CONCURRENTLY, ...) has taken effect when it returns: its row
 * is written in a subtransaction, and if that fails it goes to the
 * background worker (blocked.c), or at least to the server log.
 *
 * One writer: the hook's rows and the worker's (blocked.c) go through
 * change_log_insert, which names every column it writes (LogColumn
 * and log_columns below) and keeps one plan for the change_log and column
 * set it saw last.  The writer sits below the queue: blocked.c calls it,
 * and lends it the id lock and the deferral path at start-up
 * (migguard_audit_attach_queue), so nothing here calls into blocked.c.
 *
 *-------------------------------------------------------------------------
 */
#include "audit.h"
#include "catalog.h"
#include "chain.h"
#include "json_out.h"
#include "lockfacts.h"
#include "lockguard.h"
#include "policy.h"
#include "relsize.h"
#include "rules.h"
#include "sqltext.h"
#include "stmtkind.h"
#include "subxact.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_sequence.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/xid8.h"

typedef struct AuditEntry
{
	char	   *statement;
	const char *command_tag;
	TimestampTz started;
	int			nesting;
	LOCKMODE	lockmode;		/* strongest table lock */
	int64		table_size;		/* largest target table, -1 if none */
	bool		rewrite;
	MigguardVerdict verdict;
	StringInfoData findings;	/* JSON array body */
	StringInfoData objects;		/* JSON array body */
	List	   *judged_rewrites;	/* tables whose rewrite a rule already judged */
	Oid			userid;			/* who ran it (event triggers run as definer) */
	bool		part_of_outer;	/* run on behalf of an open entry: no row */
	bool		owns_nested;	/* what runs inside it is part of it */
	bool		outside_transaction;	/* takes effect before it returns */
	LocalTransactionId lxid;	/* transaction it started in */
	int64		approval_id;	/* the approval that accepted a finding, or 0 */
} AuditEntry;

static MemoryContext audit_context = NULL;
static List *open_entries = NIL;	/* innermost last */

static MemoryContext
audit_memory(void)
{
	if (audit_context == NULL)
		audit_context = AllocSetContextCreate(TopMemoryContext,
											  "migguard audit",
											  ALLOCSET_SMALL_SIZES);
	return audit_context;
}

/* Where the hook writes: InvalidOid when the audit is off or impossible. */
static Oid
audit_target(Oid *owner)
{
	if (!migguard_audit_enabled || creating_extension)
		return InvalidOid;
	return migguard_change_log(owner);
}

static void
audit_lock_context(void *arg)
{
	errcontext("while locking %s for the audit row", (const char *) arg);
}

/*
 * Take a ROW EXCLUSIVE lock the audit row needs (change_log's, its identity
 * sequence's), waiting at most the lock timeout the lock guard applies
 * (migguard_effective_lock_timeout), through PostgreSQL's own lock_timeout,
 * set for this wait only.
 */
static void
lock_for_audit(Oid relid, const char *what)
{
	ErrorContextCallback callback;
	int			timeout_ms;
	int			nestlevel;

	if (ConditionalLockRelationOid(relid, RowExclusiveLock))
		return;

	callback.callback = audit_lock_context;
	callback.arg = (void *) what;
	callback.previous = error_context_stack;
	error_context_stack = &callback;

	timeout_ms = migguard_effective_lock_timeout();
	nestlevel = NewGUCNestLevel();
	if (timeout_ms != LockTimeout)
		(void) set_config_option("lock_timeout", psprintf("%d", timeout_ms),
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
								 true, 0, false);
	LockRelationOid(relid, RowExclusiveLock);
	AtEOXact_GUC(true, nestlevel);

	error_context_stack = callback.previous;
}

static void
lock_change_log(Oid relid)
{
	lock_for_audit(relid, "migguard.change_log");
}

/*
 * Statements that take effect before they return, because PostgreSQL does
 * not let them run in a transaction block (PreventInTransactionBlock): a
 * failing audit write must not report them failed.  The statement-kind
 * table decides (stmtkind.c).  Statements that commit internally are also
 * caught by the change of local transaction id.
 */
static bool
runs_outside_transaction(Node *parsetree)
{
	return migguard_stmt_commits_internally(parsetree);
}

/*
 * Whether the statement may lock change_log itself, more strongly (DROP
 * EXTENSION, DROP SCHEMA ... CASCADE, ALTER TABLE migguard.change_log):
 * taking ROW EXCLUSIVE first would be a lock upgrade, so its row waits for
 * the lock at the end, as before.
 */
static bool
may_lock_change_log(Node *parsetree, MigguardStatement *stmt, Oid relid)
{
	ListCell   *lc;

	switch (nodeTag(parsetree))
	{
		case T_DropStmt:
			if (((DropStmt *) parsetree)->removeType == OBJECT_EXTENSION ||
				((DropStmt *) parsetree)->removeType == OBJECT_SCHEMA)
				return true;
			break;
		case T_AlterExtensionStmt:
		case T_AlterExtensionContentsStmt:
		case T_AlterObjectSchemaStmt:
			return true;
		default:
			break;
	}
	foreach(lc, stmt->ops)
	{
		MigguardOp *op = (MigguardOp *) lfirst(lc);

		if (op->rel != NULL && op->rel->relid == relid)
			return true;
	}
	return false;
}

/* One finding as an array element: {rule, level, relation, message}. */
static void
append_finding_json(StringInfo buf, MigguardFinding *f)
{
	migguard_json_begin_object(buf);
	migguard_json_field(buf, "rule", migguard_rule_name(f->rule));
	migguard_json_field(buf, "level", migguard_level_name(f->level));
	migguard_json_field(buf, "relation",
						f->op->rel ? migguard_display_name(f->op->rel) : NULL);
	migguard_json_field(buf, "message", f->message);
	migguard_json_end_object(buf);
}

/* The body of a JSON array of {rule, level, relation, message}. */
static void
append_findings_json(StringInfo buf, List *findings)
{
	ListCell   *lc;

	foreach(lc, findings)
		append_finding_json(buf, (MigguardFinding *) lfirst(lc));
}

/* Findings as the JSON array change_log.findings holds. */
static char *
findings_json(List *findings)
{
	StringInfoData buf;

	initStringInfo(&buf);
	append_findings_json(&buf, findings);
	return migguard_json_array(&buf);
}

/* The element that stands for the findings a cut array left out. */
static char *
omitted_findings_json(int omitted)
{
	StringInfoData buf;

	initStringInfo(&buf);
	migguard_json_begin_object(&buf);
	migguard_json_field(&buf, "rule", NULL);
	migguard_json_field(&buf, "level", NULL);
	migguard_json_field(&buf, "relation", NULL);
	migguard_json_field(&buf, "message",
						psprintf("(%d more findings not recorded here; the server log names them all)",
								 omitted));
	migguard_json_end_object(&buf);
	return buf.data;
}

/*
 * Findings as a JSON array shorter than maxlen bytes, for a record of fixed
 * size (the blocked-attempt queue): as many whole findings as fit, in
 * order, cut at an element boundary so that the array still parses, and
 * one last element that says how many were left out.
 */
char *
migguard_findings_json_within(List *findings, int maxlen)
{
	char	   *all = findings_json(findings);
	StringInfoData kept;
	StringInfoData element;
	int			n = list_length(findings);
	int			nkept = 0;
	ListCell   *lc;

	if (strlen(all) < (size_t) maxlen)
		return all;

	initStringInfo(&kept);
	initStringInfo(&element);
	foreach(lc, findings)
	{
		/* "[" kept ", " element ", " omitted "]" must stay below maxlen. */
		resetStringInfo(&element);
		append_finding_json(&element, (MigguardFinding *) lfirst(lc));
		if (1 + kept.len + 2 + element.len + 2 +
			strlen(omitted_findings_json(n - nkept - 1)) + 1 >= (size_t) maxlen)
			break;
		appendStringInfo(&kept, "%s%s", kept.len ? ", " : "", element.data);
		nkept++;
	}
	return psprintf("[%s%s%s]", kept.data, kept.len ? ", " : "",
					omitted_findings_json(n - nkept));
}

static void
append_findings(AuditEntry *entry, List *findings)
{
	append_findings_json(&entry->findings, findings);
}

/* The strongest table lock of a statement, and its largest target table. */
void
migguard_statement_lock_and_size(MigguardStatement *stmt, LOCKMODE *lockmode,
								 int64 *table_size)
{
	ListCell   *lc;

	*lockmode = NoLock;
	*table_size = -1;
	foreach(lc, stmt->ops)
	{
		MigguardOp *op = (MigguardOp *) lfirst(lc);

		if (op->lockmode > *lockmode)
			*lockmode = op->lockmode;
		/*
		 * A size a rule measured, or a plain table's (cheap); a partitioned
		 * table no size-gated rule judged is not measured for the log.
		 */
		if (op->rel && OidIsValid(op->rel->relid) &&
			(op->rel->size >= 0 || op->rel->relkind != RELKIND_PARTITIONED_TABLE) &&
			migguard_relation_bytes(op->rel) > *table_size)
			*table_size = migguard_relation_bytes(op->rel);
	}
}

/*
 * The tables whose rewrite a rule of the statement already judged (and
 * their partitions, which are rewritten one by one): the table_rewrite
 * event confirms those decisions instead of judging them twice.  Which
 * rules judge a rewrite is the catalog's (migguard_rule_rewrites).  A
 * rewrite no rule judged (unpredicted, or its rule turned off) is the
 * event's.
 */
static List *
judged_rewrites(List *findings)
{
	List	   *relids = NIL;
	ListCell   *lc;

	foreach(lc, findings)
	{
		MigguardFinding *f = (MigguardFinding *) lfirst(lc);
		const MigguardRelation *rel = f->op->rel;

		if (!migguard_rule_rewrites(f->rule) ||
			rel == NULL || !OidIsValid(rel->relid))
			continue;
		if (rel->relkind == RELKIND_PARTITIONED_TABLE)
			relids = list_concat_unique_oid(relids,
											find_all_inheritors(rel->relid,
																NoLock, NULL));
		else
			relids = list_append_unique_oid(relids, rel->relid);
	}
	return relids;
}

/* One {type, schema, identity} element of change_log.objects. */
static void
append_object_json(StringInfo buf, const char *type, const char *schema,
				   const char *identity)
{
	migguard_json_begin_object(buf);
	migguard_json_field(buf, "type", type);
	migguard_json_field(buf, "schema", schema);
	migguard_json_field(buf, "identity", identity);
	migguard_json_end_object(buf);
}

/* A global object (role, database, tablespace): no schema. */
static void
append_global_object(StringInfo buf, const char *type, const char *name)
{
	append_object_json(buf, type, NULL, quote_identifier(name));
}

static void
append_role_specs(StringInfo buf, List *roles)
{
	ListCell   *lc;

	foreach(lc, roles)
	{
		RoleSpec   *role = (RoleSpec *) lfirst(lc);

		if (role->roletype == ROLESPEC_CSTRING)
			append_global_object(buf, "role", role->rolename);
	}
}

/*
 * Event triggers do not see roles, databases and tablespaces: their objects
 * come from the parse tree.
 */
static void
append_global_objects(StringInfo buf, Node *parsetree)
{
	switch (nodeTag(parsetree))
	{
		case T_CreateRoleStmt:
			append_global_object(buf, "role", ((CreateRoleStmt *) parsetree)->role);
			break;
		case T_DropRoleStmt:
			append_role_specs(buf, ((DropRoleStmt *) parsetree)->roles);
			break;
		case T_AlterRoleStmt:
			append_role_specs(buf, list_make1(((AlterRoleStmt *) parsetree)->role));
			break;
		case T_CreatedbStmt:
			append_global_object(buf, "database", ((CreatedbStmt *) parsetree)->dbname);
			break;
		case T_DropdbStmt:
			append_global_object(buf, "database", ((DropdbStmt *) parsetree)->dbname);
			break;
		case T_AlterDatabaseStmt:
			append_global_object(buf, "database", ((AlterDatabaseStmt *) parsetree)->dbname);
			break;
		case T_AlterDatabaseSetStmt:
			append_global_object(buf, "database", ((AlterDatabaseSetStmt *) parsetree)->dbname);
			break;
		case T_CreateTableSpaceStmt:
			append_global_object(buf, "tablespace",
								 ((CreateTableSpaceStmt *) parsetree)->tablespacename);
			break;
		case T_DropTableSpaceStmt:
			append_global_object(buf, "tablespace",
								 ((DropTableSpaceStmt *) parsetree)->tablespacename);
			break;
		case T_RenameStmt:
			{
				RenameStmt *rename = (RenameStmt *) parsetree;

				if (rename->renameType == OBJECT_ROLE)
					append_global_object(buf, "role", rename->newname);
				else if (rename->renameType == OBJECT_DATABASE)
					append_global_object(buf, "database", rename->newname);
				else if (rename->renameType == OBJECT_TABLESPACE)
					append_global_object(buf, "tablespace", rename->newname);
				break;
			}
		default:
			break;
	}
}

/* The approval (approvals.c) that accepted one of the findings, or 0. */
static int64
first_approval(List *findings)
{
	ListCell   *lc;

	foreach(lc, findings)
		if (((MigguardFinding *) lfirst(lc))->approval_id > 0)
			return ((MigguardFinding *) lfirst(lc))->approval_id;
	return 0;
}

/*
 * Open an entry for a DDL statement about to run; findings and verdict as
 * the guard decided them (NIL and allowed for statements no rule judges).
 */
void
migguard_audit_begin(Node *parsetree, MigguardStatement *stmt, List *findings,
					 MigguardVerdict verdict, int nesting)
{
	MemoryContext old;
	AuditEntry *entry;
	bool		outside_transaction = runs_outside_transaction(parsetree);
	Oid			owner;
	Oid			relid;

	AuditEntry *outer = nesting > 0 && open_entries != NIL ?
	(AuditEntry *) llast(open_entries) : NULL;
	bool		part_of_outer = outer != NULL &&
	(outer->part_of_outer || outer->owns_nested);

	/*
	 * Lock change_log now, bounded, rather than after the statement, when it
	 * holds its own locks (see the top of the file).  Read-only transactions
	 * write no row.
	 */
	if (!part_of_outer && !outside_transaction && !XactReadOnly &&
		OidIsValid(relid = audit_target(&owner)) &&
		!may_lock_change_log(parsetree, stmt, relid))
		lock_change_log(relid);

	/*
	 * A top-level statement starts with no open entry; anything left over
	 * (an error path we did not see) is dropped rather than misattributed.
	 */
	if (nesting == 0 && open_entries != NIL)
	{
		open_entries = NIL;
		MemoryContextReset(audit_memory());
	}
	old = MemoryContextSwitchTo(audit_memory());
	entry = palloc0(sizeof(AuditEntry));

	entry->statement = pstrdup(stmt->text);
	entry->command_tag = stmt->command_tag;
	entry->started = GetCurrentStatementStartTimestamp();
	entry->nesting = nesting;
	entry->verdict = verdict;
	initStringInfo(&entry->findings);
	initStringInfo(&entry->objects);

	migguard_statement_lock_and_size(stmt, &entry->lockmode, &entry->table_size);
	/* Storage replaced without a table_rewrite event (stmtkind.c) */
	entry->rewrite = migguard_statement_replaces_storage(stmt, parsetree);
	append_findings(entry, findings);
	entry->approval_id = first_approval(findings);
	append_global_objects(&entry->objects, parsetree);
	entry->judged_rewrites = judged_rewrites(findings);
	entry->userid = GetUserId();

	/*
	 * REFRESH MATERIALIZED VIEW is one statement to its user, but
	 * refresh_by_match_merge (matview.c) runs CREATE TEMP TABLE, ANALYZE and
	 * DROP TABLE through SPI for CONCURRENTLY, and the view's query may call
	 * functions: all of it runs inside the REFRESH, as the view's owner
	 * under SECURITY_RESTRICTED_OPERATION, on the REFRESH's behalf.
	 * PostgreSQL treats it the same way: ProcessUtilitySlow inhibits event
	 * trigger command collection for the whole REFRESH
	 * (EventTriggerInhibitCommandCollection).  Such statements get an entry,
	 * so that their event-trigger objects (the dropped temp tables) land in
	 * it and not in the REFRESH's, but no row.
	 */
	entry->part_of_outer = part_of_outer;
	entry->owns_nested = IsA(parsetree, RefreshMatViewStmt);
	entry->outside_transaction = outside_transaction;
	entry->lxid = mg_proc_lxid(MyProc);
	open_entries = lappend(open_entries, entry);
	MemoryContextSwitchTo(old);
}

static void
close_entry(void)
{
	AuditEntry *entry = (AuditEntry *) llast(open_entries);

	open_entries = list_delete_last(open_entries);
	pfree(entry->findings.data);
	pfree(entry->objects.data);
	list_free(entry->judged_rewrites);
	pfree(entry->statement);
	pfree(entry);
	if (open_entries == NIL)
		MemoryContextReset(audit_memory());
}

/* The statement failed: its entry goes, nothing is written. */
void
migguard_audit_abort(void)
{
	if (open_entries != NIL)
		close_entry();
}

/* ----------------------------------------------------------------
 * What the event triggers (event_triggers.c) add to the innermost entry
 * ----------------------------------------------------------------
 */

/* Whether a statement's entry is open: event triggers have somewhere to write. */
bool
migguard_audit_is_open(void)
{
	return open_entries != NIL;
}

/* An object the statement created, altered or dropped. */
void
migguard_audit_add_object(const char *type, const char *schema,
						  const char *identity)
{
	AuditEntry *entry = (AuditEntry *) llast(open_entries);
	MemoryContext old = MemoryContextSwitchTo(audit_memory());

	append_object_json(&entry->objects, type, schema, identity);
	MemoryContextSwitchTo(old);
}

/*
 * PostgreSQL is about to rewrite relid for the innermost statement: its row
 * says so.  False when no entry is open; else *out describes the statement
 * and whether a rule of it already judged this rewrite.
 */
bool
migguard_audit_rewrite(Oid relid, MigguardAuditedStatement *out)
{
	AuditEntry *entry;

	if (open_entries == NIL)
		return false;
	entry = (AuditEntry *) llast(open_entries);
	entry->rewrite = true;
	out->statement = entry->statement;
	out->command_tag = entry->command_tag;
	out->nesting = entry->nesting;
	out->userid = entry->userid;
	out->rewrite_judged = list_member_oid(entry->judged_rewrites, relid);
	return true;
}

/* The findings table_rewrite judged for relid join the innermost entry. */
void
migguard_audit_add_rewrite_findings(Oid relid, List *findings,
									MigguardVerdict verdict)
{
	AuditEntry *entry = (AuditEntry *) llast(open_entries);
	MemoryContext old = MemoryContextSwitchTo(audit_memory());

	append_findings(entry, findings);
	if (verdict > entry->verdict)
		entry->verdict = verdict;
	if (entry->approval_id == 0)
		entry->approval_id = first_approval(findings);
	entry->judged_rewrites = lappend_oid(entry->judged_rewrites, relid);
	MemoryContextSwitchTo(old);
}

/*
 * The columns the audit writes, in this order.  The first LOG_COLUMNS_1_0
 * are those of 1.0's change_log; the others are written when the table has
 * them (a server whose library is 1.1 but whose catalog is still 1.0, before
 * ALTER EXTENSION migguard UPDATE, has not).
 */
typedef enum LogColumn
{
	COL_ID, COL_LOGGED_AT, COL_XID, COL_PID, COL_SESSION_USER, COL_CURRENT_USER,
	COL_APPLICATION, COL_CLIENT_ADDR, COL_COMMAND_TAG, COL_OBJECTS, COL_STATEMENT,
	COL_LOCK_MODE, COL_TABLE_SIZE, COL_REWRITE, COL_VERDICT, COL_FINDINGS, COL_TAG,
	COL_NESTING, COL_ATTEMPTS, COL_LOCK_WAIT_MS,
	COL_REASON, COL_APPROVAL_ID, COL_PREV_XID, COL_PREV_HASH, COL_ROW_HASH,
	NUM_LOG_COLUMNS
} LogColumn;

#define LOG_COLUMNS_1_0 (COL_LOCK_WAIT_MS + 1)

static const struct
{
	const char *name;
	Oid			type;
}			log_columns[NUM_LOG_COLUMNS] = {
	{"id", INT8OID}, {"logged_at", TIMESTAMPTZOID}, {"xid", XID8OID},
	{"pid", INT4OID}, {"session_user_name", NAMEOID},
	{"current_user_name", NAMEOID}, {"application_name", TEXTOID},
	{"client_addr", INETOID}, {"command_tag", TEXTOID}, {"objects", JSONBOID},
	{"statement", TEXTOID}, {"lock_mode", TEXTOID}, {"table_size", INT8OID},
	{"rewrite", BOOLOID}, {"verdict", TEXTOID}, {"findings", JSONBOID},
	{"tag", TEXTOID}, {"nesting", INT4OID}, {"attempts", INT4OID},
	{"lock_wait_ms", INT8OID},
	{"reason", TEXTOID}, {"approval_id", INT8OID}, {"prev_xid", XID8OID},
	{"prev_hash", BYTEAOID}, {"row_hash", BYTEAOID}
};

/*
 * What the writer knows about one change_log: the columns it has, and its
 * identity sequence.  Any relcache invalidation of that table (ALTER
 * EXTENSION UPDATE's ALTER TABLE, DROP EXTENSION, a rename) forgets it.
 */
static struct
{
	Oid			relid;			/* the change_log described, or InvalidOid */
	uint32		columns;		/* a bit per LogColumn it has */
	Oid			id_sequence;	/* InvalidOid until the first id is drawn */
}			writer;

static void
forget_writer_state(Datum arg, Oid relid)
{
	if (!OidIsValid(relid) || relid == writer.relid)
		writer.relid = InvalidOid;
}

/*
 * Which columns change_log has, as a bit per LogColumn; found by attribute
 * name and type in the syscache once per change_log (forget_writer_state).
 */
static uint32
columns_of(Oid relid)
{
	static bool callback_registered = false;

	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(forget_writer_state, (Datum) 0);
		callback_registered = true;
	}
	if (relid != writer.relid)
	{
		writer.columns = 0;
		for (int i = 0; i < NUM_LOG_COLUMNS; i++)
		{
			AttrNumber	attno = get_attnum(relid, log_columns[i].name);

			if (i < LOG_COLUMNS_1_0 ||
				(attno != InvalidAttrNumber &&
				 get_atttype(relid, attno) == log_columns[i].type))
				writer.columns |= (uint32) 1 << i;
		}
		writer.id_sequence = InvalidOid;
		writer.relid = relid;
	}
	return writer.columns;
}

static bool
has_column(uint32 columns, LogColumn col)
{
	return (columns & ((uint32) 1 << col)) != 0;
}

/* The hash chain is written when all three of its columns exist. */
static bool
has_chain(uint32 columns)
{
	return has_column(columns, COL_PREV_XID) && has_column(columns, COL_PREV_HASH) &&
		has_column(columns, COL_ROW_HASH);
}

/*
 * The one INSERT of the hook's and the worker's rows, parsed and planned
 * once per backend for one change_log (by OID, and the qualified name it
 * had then) and the set of columns it had then; the plan cache revalidates
 * it when change_log or the catalogs change.
 */
static SPIPlanPtr insert_plan = NULL;
static Oid	insert_relid = InvalidOid;
static char *insert_target = NULL;
static uint32 insert_columns = 0;

/*
 * The kept INSERT for change_log's current schema, name and columns; call
 * between SPI_connect and SPI_finish, under the pinned search_path.  A name
 * that changed since the plan was made (ALTER SCHEMA ... RENAME) means a new
 * plan: the plan cache would re-analyse the old name, which could now be a
 * look-alike's.
 */
static SPIPlanPtr
insert_plan_for(Oid relid, const char *target, uint32 columns)
{
	Oid			types[NUM_LOG_COLUMNS];
	StringInfoData names;
	StringInfoData params;
	int			n = 0;
	SPIPlanPtr	prepared;

	if (insert_plan != NULL && relid == insert_relid &&
		columns == insert_columns && strcmp(target, insert_target) == 0)
		return insert_plan;

	if (insert_plan != NULL)
	{
		SPI_freeplan(insert_plan);
		insert_plan = NULL;
		pfree(insert_target);
	}
	initStringInfo(&names);
	initStringInfo(&params);
	for (int i = 0; i < NUM_LOG_COLUMNS; i++)
	{
		if (!has_column(columns, i))
			continue;
		appendStringInfo(&names, "%s%s", n ? ", " : "", log_columns[i].name);
		appendStringInfo(&params, "%s$%d", n ? ", " : "", n + 1);
		types[n++] = log_columns[i].type;
	}
	prepared = SPI_prepare(psprintf("INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE VALUES (%s)",
									target, names.data, params.data),
						   n, types);
	if (prepared == NULL)
		elog(ERROR, "could not prepare migguard audit query: %s",
			 SPI_result_code_string(SPI_result));
	if (SPI_keepplan(prepared) != 0)
		elog(ERROR, "could not keep migguard audit query");
	insert_relid = relid;
	insert_target = MemoryContextStrdup(TopMemoryContext, target);
	insert_columns = columns;
	insert_plan = prepared;
	return insert_plan;
}

/*
 * What the blocked-attempt queue (blocked.c) lends the writer, set up from
 * _PG_init and the shared-memory start-up there (migguard_audit_attach_queue):
 * the LWLock that makes drawing an id one step across backends, and where a
 * row goes that this backend cannot write.  The writer sits below the
 * queue; it never calls into blocked.c.
 */
static LWLock *change_log_id_lock = NULL;
static MigguardRowDeferral row_deferral = NULL;

void
migguard_audit_attach_queue(LWLock *id_lock, MigguardRowDeferral deferral)
{
	change_log_id_lock = id_lock;
	row_deferral = deferral;
}

/* What next_change_log_id needs to make the row's chain link. */
typedef struct ChainArgs
{
	StringInfo	middle;			/* the encoded columns after id */
	MigguardChainSeed seed;
	MigguardChainLink link;
} ChainArgs;

static Datum
text_or_null(const char *value, char *null)
{
	*null = (value == NULL || value[0] == '\0') ? 'n' : ' ';
	return *null == 'n' ? (Datum) 0 : CStringGetTextDatum(value);
}

/*
 * The next id of change_log (relid), drawn from its identity sequence
 * without nextval().  nextval_internal always makes its sequence the one
 * lastval() reports (sequence.c's last_used_seq), so an audit row written
 * after the user's own nextval() changed what lastval() returned, and a role
 * without rights on change_log's sequence got "permission denied" from it.
 * pg_sequence_last_value() and setval() leave lastval() alone: the id is
 * the sequence's last value plus its increment, and setval() records it
 * (WAL-logged before the row can commit, so a crash never hands it out
 * again).  The sequence's own lock is taken first, bounded by the lock
 * timeout and outside the LWLock that makes reading and setting one step
 * across backends, so nothing waits on a heavyweight lock while holding the
 * LWLock.  With chain_args, the row's hash-chain link is made under the
 * same LWLock acquisition.  Called as change_log's owner.
 */
static int64
next_change_log_id(Oid relid, ChainArgs *chain_args)
{
	LWLock	   *lock = change_log_id_lock;
	Form_pg_sequence seqform;
	HeapTuple	tup;
	int64		increment;
	int64		start;
	int64		id;
	Datum		last;
	LOCAL_FCINFO(fcinfo, 1);

	if (lock == NULL)
		elog(ERROR, "migguard must be loaded through shared_preload_libraries to write change_log");
	(void) columns_of(relid);	/* writer describes relid */
	if (!OidIsValid(writer.id_sequence))
	{
		List	   *sequences = getOwnedSequences(relid);

		if (list_length(sequences) != 1)
			elog(ERROR, "migguard.change_log (relation %u) has no identity sequence", relid);
		writer.id_sequence = linitial_oid(sequences);
	}
	tup = SearchSysCache1(SEQRELID, ObjectIdGetDatum(writer.id_sequence));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for sequence %u", writer.id_sequence);
	seqform = (Form_pg_sequence) GETSTRUCT(tup);
	increment = seqform->seqincrement;
	start = seqform->seqstart;
	ReleaseSysCache(tup);

	lock_for_audit(writer.id_sequence, "migguard.change_log's identity sequence");
	LWLockAcquire(lock, LW_EXCLUSIVE);
	InitFunctionCallInfoData(*fcinfo, NULL, 1, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = ObjectIdGetDatum(writer.id_sequence);
	fcinfo->args[0].isnull = false;
	last = pg_sequence_last_value(fcinfo);
	id = fcinfo->isnull ? start : DatumGetInt64(last) + increment;
	(void) DirectFunctionCall2(setval_oid, ObjectIdGetDatum(writer.id_sequence),
							   Int64GetDatum(id));
	/* Under the same acquisition: id order is chain order (chain.c). */
	if (chain_args != NULL)
		migguard_chain_link(relid, id, chain_args->middle, &chain_args->seed,
							&chain_args->link);
	LWLockRelease(lock);
	return id;
}

static Datum
hash_datum(const uint8 *hash)
{
	bytea	   *b = palloc(VARHDRSZ + MG_HASH_LEN);

	SET_VARSIZE(b, VARHDRSZ + MG_HASH_LEN);
	memcpy(VARDATA(b), hash, MG_HASH_LEN);
	return PointerGetDatum(b);
}

/*
 * Draw the id, and with the chain columns make the chain link: the columns
 * the hash covers are encoded before the LWLock is taken (chain.c).
 */
static void
assign_id_and_link(Oid relid, const char *target, uint32 columns,
				   Datum *values, char *nulls)
{
	ChainArgs	args;
	StringInfoData middle;

	if (!has_chain(columns))
	{
		values[COL_ID] = Int64GetDatum(next_change_log_id(relid, NULL));
		return;
	}
	initStringInfo(&middle);
	for (int i = COL_LOGGED_AT; i <= COL_APPROVAL_ID; i++)
		migguard_chain_encode_column(&middle, log_columns[i].type, values[i],
									 nulls[i] == 'n');
	args.middle = &middle;
	args.seed.has_hash = false;
	if (!migguard_chain_head_known(relid))
		args.seed = migguard_chain_read_seed(target);
	values[COL_ID] = Int64GetDatum(next_change_log_id(relid, &args));

	nulls[COL_PREV_HASH] = args.link.has_prev ? ' ' : 'n';
	values[COL_PREV_HASH] = args.link.has_prev ? hash_datum(args.link.prev) : (Datum) 0;
	nulls[COL_PREV_XID] = FullTransactionIdIsValid(args.link.prev_xid) ? ' ' : 'n';
	values[COL_PREV_XID] = FullTransactionIdGetDatum(args.link.prev_xid);
	nulls[COL_ROW_HASH] = ' ';
	values[COL_ROW_HASH] = hash_datum(args.link.hash);
	pfree(middle.data);
}

/*
 * INSERT a row into change_log (relid, found by migguard_change_log) as its
 * owner: nobody else has, or needs, write access to it.  Under the pinned
 * search_path, with every value a parameter of its column's type, the only
 * name PostgreSQL resolves is change_log's own, derived from its OID now.
 * Only the columns the table has are written (columns_of).
 */
static void
change_log_insert(const MigguardLogRow *row, Oid relid, Oid owner)
{
	Datum		values[NUM_LOG_COLUMNS];
	char		nulls[NUM_LOG_COLUMNS];
	Datum		args[NUM_LOG_COLUMNS];
	char		argnulls[NUM_LOG_COLUMNS];
	char	   *nspname = get_namespace_name(get_rel_namespace(relid));
	char	   *relname = get_rel_name(relid);
	const char *target;
	uint32		columns;
	Oid			saved_user;
	int			saved_sec;
	int			nestlevel;

	if (nspname == NULL || relname == NULL)
		elog(ERROR, "migguard.change_log (relation %u) disappeared", relid);
	target = quote_qualified_identifier(nspname, relname);
	columns = columns_of(relid);

	memset(nulls, ' ', sizeof(nulls));
	values[COL_LOGGED_AT] = TimestampTzGetDatum(row->logged_at);
	values[COL_XID] = FullTransactionIdGetDatum(row->xid);
	nulls[COL_XID] = FullTransactionIdIsValid(row->xid) ? ' ' : 'n';
	values[COL_PID] = Int32GetDatum(row->pid);
	values[COL_SESSION_USER] = DirectFunctionCall1(namein, CStringGetDatum(row->session_user_name));
	values[COL_CURRENT_USER] = DirectFunctionCall1(namein, CStringGetDatum(row->current_user_name));
	values[COL_APPLICATION] = text_or_null(row->application_name, &nulls[COL_APPLICATION]);
	nulls[COL_CLIENT_ADDR] = row->client_addr ? ' ' : 'n';
	values[COL_CLIENT_ADDR] = row->client_addr ?
		DirectFunctionCall1(inet_in, CStringGetDatum(row->client_addr)) : (Datum) 0;
	values[COL_COMMAND_TAG] = CStringGetTextDatum(row->command_tag);
	values[COL_OBJECTS] = DirectFunctionCall1(jsonb_in, CStringGetDatum(row->objects));
	values[COL_STATEMENT] = CStringGetTextDatum(row->statement);
	values[COL_LOCK_MODE] = text_or_null(row->lock_mode, &nulls[COL_LOCK_MODE]);
	values[COL_TABLE_SIZE] = Int64GetDatum(row->table_size);
	nulls[COL_TABLE_SIZE] = row->table_size >= 0 ? ' ' : 'n';
	values[COL_REWRITE] = BoolGetDatum(row->rewrite);
	values[COL_VERDICT] = CStringGetTextDatum(row->verdict);
	values[COL_FINDINGS] = DirectFunctionCall1(jsonb_in, CStringGetDatum(row->findings));
	values[COL_TAG] = text_or_null(row->tag, &nulls[COL_TAG]);
	values[COL_NESTING] = Int32GetDatum(row->nesting);
	values[COL_ATTEMPTS] = Int32GetDatum(row->attempts);
	values[COL_LOCK_WAIT_MS] = Int64GetDatum(row->lock_wait_ms);
	values[COL_REASON] = text_or_null(row->reason, &nulls[COL_REASON]);
	values[COL_APPROVAL_ID] = Int64GetDatum(row->approval_id);
	nulls[COL_APPROVAL_ID] = row->approval_id > 0 ? ' ' : 'n';
	for (int i = COL_PREV_XID; i < NUM_LOG_COLUMNS; i++)
	{
		values[i] = (Datum) 0;
		nulls[i] = 'n';
	}
	/* A column the table lacks counts as NULL in the hash too. */
	for (int i = LOG_COLUMNS_1_0; i < NUM_LOG_COLUMNS; i++)
		if (!has_column(columns, i))
			nulls[i] = 'n';

	/*
	 * As fmgr_security_definer: switch user, then a GUC nest level for the
	 * pinned search_path, popped by AtEOXact_GUC here or by the
	 * (sub)transaction abort on error.
	 */
	GetUserIdAndSecContext(&saved_user, &saved_sec);
	SetUserIdAndSecContext(owner, saved_sec | SECURITY_LOCAL_USERID_CHANGE);
	nestlevel = NewGUCNestLevel();
	PG_TRY();
	{
		SPIPlanPtr	plan;
		int			n = 0;

		(void) set_config_option("search_path", "pg_catalog, pg_temp",
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
								 true, 0, false);
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		plan = insert_plan_for(relid, target, columns);
		assign_id_and_link(relid, target, columns, values, nulls);
		for (int i = 0; i < NUM_LOG_COLUMNS; i++)
		{
			if (!has_column(columns, i))
				continue;
			args[n] = values[i];
			argnulls[n++] = nulls[i];
		}
		if (SPI_execute_plan(plan, args, argnulls, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not insert into migguard.change_log");
		SPI_finish();
	}
	PG_CATCH();
	{
		SetUserIdAndSecContext(saved_user, saved_sec);
		PG_RE_THROW();
	}
	PG_END_TRY();
	AtEOXact_GUC(true, nestlevel);
	SetUserIdAndSecContext(saved_user, saved_sec);
}

/* The client's address as text, once per session; NULL for Unix sockets. */
static const char *
client_addr_text(void)
{
	static bool known = false;
	static char *addr = NULL;

	if (!known)
	{
		LOCAL_FCINFO(fcinfo, 0);
		Datum		value;

		InitFunctionCallInfoData(*fcinfo, NULL, 0, InvalidOid, NULL, NULL);
		value = inet_client_addr(fcinfo);
		if (!fcinfo->isnull)
			addr = MemoryContextStrdup(TopMemoryContext,
									   DatumGetCString(DirectFunctionCall1(inet_out, value)));
		known = true;
	}
	return addr;
}

static void
entry_row(AuditEntry *entry, MigguardLogRow *row, FullTransactionId xid)
{
	row->logged_at = entry->started;
	row->xid = xid;
	row->pid = MyProcPid;
	row->session_user_name = GetUserNameFromId(GetSessionUserId(), false);
	row->current_user_name = GetUserNameFromId(GetUserId(), false);
	row->application_name = application_name;
	row->client_addr = client_addr_text();
	row->command_tag = entry->command_tag;
	row->objects = migguard_json_array(&entry->objects);
	row->statement = entry->statement;
	row->lock_mode = entry->lockmode ?
		GetLockmodeName(DEFAULT_LOCKMETHOD, entry->lockmode) : NULL;
	row->table_size = entry->table_size;
	row->rewrite = entry->rewrite;
	row->verdict = migguard_verdict_name(entry->verdict);
	row->findings = migguard_json_array(&entry->findings);
	row->tag = migguard_tag;
	row->nesting = entry->nesting;
	row->attempts = Max(migguard_last_lock_stats.attempts, 1);
	row->lock_wait_ms = migguard_last_lock_stats.lock_wait_ms;
	row->reason = migguard_reason;
	row->approval_id = entry->approval_id;
}

/* A row this backend cannot write: the worker writes it, or the log says so. */
static void
defer_row(const MigguardLogRow *row, const char *reason)
{
	if (row_deferral != NULL && row_deferral(row))
		ereport(LOG,
				(errmsg("migguard: change_log row left to the background worker (%s): %s",
						reason, row->statement),
				 errhidestmt(true)));
	else
		ereport(LOG,
				(errmsg("migguard: not recorded in change_log (%s): %s",
						reason, row->statement),
				 errhidestmt(true)));
}

/*
 * INSERT the row in a subtransaction (the pattern of plpgsql's
 * exec_stmt_block), with change_log's lock bounded: true when it is
 * written, else false and the error's message in *error.  For rows that
 * must not raise: statements that took effect, and the worker's records.
 */
typedef struct InsertArgs
{
	const MigguardLogRow *row;
	Oid			relid;
	Oid			owner;
} InsertArgs;

static void
lock_and_insert(void *arg)
{
	InsertArgs *args = (InsertArgs *) arg;

	lock_change_log(args->relid);
	change_log_insert(args->row, args->relid, args->owner);
}

bool
migguard_change_log_try_insert(const MigguardLogRow *row, Oid relid, Oid owner,
							   char **error)
{
	InsertArgs	args = {row, relid, owner};
	ErrorData  *edata;

	/* A statement_timeout (57014) too: the statement took effect. */
	edata = migguard_subtransaction(lock_and_insert, &args, true);
	if (edata == NULL)
		return true;
	*error = pstrdup(edata->message);
	FreeErrorData(edata);
	return false;
}

/*
 * Write the row of a statement that has taken effect, never raising: on
 * failure the row goes to the worker.
 */
static void
write_row_without_raising(const MigguardLogRow *row, Oid relid, Oid owner)
{
	char	   *error;

	if (XactReadOnly)
		defer_row(row, "read-only transaction");
	else if (!migguard_change_log_try_insert(row, relid, owner, &error))
		defer_row(row, error);
}

static void
write_entry(AuditEntry *entry)
{
	Oid			owner;
	Oid			relid = audit_target(&owner);
	MigguardLogRow row;

	if (!OidIsValid(relid))
		return;
	if (entry->outside_transaction || mg_proc_lxid(MyProc) != entry->lxid)
	{
		entry_row(entry, &row, GetTopFullTransactionIdIfAny());
		write_row_without_raising(&row, relid, owner);
	}
	else if (XactReadOnly)
	{
		/* The statement's own transaction cannot hold the row. */
		ereport(LOG,
				(errmsg("migguard: not recorded in change_log (read-only transaction): %s",
						entry->statement),
				 errhidestmt(true)));
	}
	else
	{
		/* Taken before the statement ran, unless it locks change_log itself. */
		lock_change_log(relid);
		entry_row(entry, &row, GetTopFullTransactionId());
		change_log_insert(&row, relid, owner);
	}
}

/* The statement ran: write its row, in its own transaction, then close. */
void
migguard_audit_end(void)
{
	AuditEntry *entry;

	if (open_entries == NIL)
		return;
	entry = (AuditEntry *) llast(open_entries);

	PG_TRY();
	{
		if (IsTransactionState() && !entry->part_of_outer)
			write_entry(entry);
	}
	PG_CATCH();
	{
		close_entry();
		PG_RE_THROW();
	}
	PG_END_TRY();
	close_entry();
}
