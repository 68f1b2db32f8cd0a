/*-------------------------------------------------------------------------
 *
 * audit.c
 *		Record every executed schema change in migguard.change_log.
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
 *-------------------------------------------------------------------------
 */
#include "migguard.h"
#include "stmtkind.h"
#include "lockguard.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/namespace.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

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
} AuditEntry;

static MemoryContext audit_context = NULL;
static List *open_entries = NIL;	/* innermost last */

/*
 * The audit's INSERT, parsed and planned once per backend; the plan cache
 * revalidates it when change_log or the catalogs change.
 */
static SPIPlanPtr insert_plan = NULL;

/* Call between SPI_connect and SPI_finish. */
static SPIPlanPtr
kept_plan(SPIPlanPtr *plan, const char *sql, int nargs, Oid *types)
{
	if (*plan == NULL)
	{
		SPIPlanPtr	prepared = SPI_prepare(sql, nargs, types);

		if (prepared == NULL)
			elog(ERROR, "could not prepare migguard audit query: %s",
				 SPI_result_code_string(SPI_result));
		if (SPI_keepplan(prepared) != 0)
			elog(ERROR, "could not keep migguard audit query");
		*plan = prepared;
	}
	return *plan;
}

static MemoryContext
audit_memory(void)
{
	if (audit_context == NULL)
		audit_context = AllocSetContextCreate(TopMemoryContext,
											  "migguard audit",
											  ALLOCSET_SMALL_SIZES);
	return audit_context;
}

/*
 * Whether a statement is a schema change worth a row: PostgreSQL's own
 * log_statement = 'ddl' classification.  Statements that merely look up a
 * prepared statement or wrap a query are not; nor, answered here without
 * GetCommandLogLevel because every transaction has them, are BEGIN/COMMIT,
 * SET and SHOW.
 */
bool
migguard_is_ddl(Node *parsetree)
{
	switch (nodeTag(parsetree))
	{
		case T_TransactionStmt:
		case T_VariableSetStmt:
		case T_VariableShowStmt:
		case T_ExecuteStmt:
		case T_PrepareStmt:
		case T_ExplainStmt:
		case T_DeclareCursorStmt:
			return false;
		default:
			return GetCommandLogLevel(parsetree) == LOGSTMT_DDL;
	}
}

static Oid
relation_owner(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner = InvalidOid;

	if (HeapTupleIsValid(tup))
	{
		owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
		ReleaseSysCache(tup);
	}
	return owner;
}

/*
 * migguard.change_log, once found to be the extension's, and its owner.
 * Any invalidation of that relation (DROP EXTENSION, ALTER ... OWNER, a
 * rolled-back CREATE EXTENSION) forgets it, so the pg_extension scan runs
 * once per backend instead of once per DDL statement.
 */
static Oid	known_change_log = InvalidOid;
static Oid	known_change_log_owner = InvalidOid;

static void
forget_change_log(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == known_change_log)
		known_change_log = InvalidOid;
}

/*
 * The owner of migguard.change_log, who writes the rows; InvalidOid when
 * nothing is to be written (audit off, or no extension in this database).
 */
static Oid
change_log_owner(void)
{
	static bool callback_registered = false;
	Oid			nspid;
	Oid			relid;

	if (!migguard_audit_enabled || creating_extension)
		return InvalidOid;
	if (OidIsValid(known_change_log))
		return known_change_log_owner;

	nspid = get_namespace_oid("migguard", true);
	relid = OidIsValid(nspid) ? get_relname_relid("change_log", nspid) : InvalidOid;
	if (!OidIsValid(relid) || !OidIsValid(get_extension_oid("migguard", true)))
		return InvalidOid;

	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(forget_change_log, (Datum) 0);
		callback_registered = true;
	}
	known_change_log_owner = relation_owner(relid);
	known_change_log = relid;
	return known_change_log_owner;
}

static void
append_json_string(StringInfo buf, const char *key, const char *value)
{
	appendStringInfo(buf, "%s\"%s\": ", buf->len && buf->data[buf->len - 1] != '{' ? ", " : "", key);
	if (value)
		escape_json(buf, value);
	else
		appendStringInfoString(buf, "null");
}

/* The body of a JSON array of {rule, level, relation, message}. */
static void
append_findings_json(StringInfo buf, List *findings)
{
	ListCell   *lc;

	foreach(lc, findings)
	{
		MigguardFinding *f = (MigguardFinding *) lfirst(lc);

		appendStringInfoString(buf, buf->len ? ", {" : "{");
		append_json_string(buf, "rule", migguard_rule_name(f->rule));
		append_json_string(buf, "level", migguard_level_name(f->level));
		append_json_string(buf, "relation",
						   f->op->rel ? migguard_display_name(f->op->rel) : NULL);
		append_json_string(buf, "message", f->message);
		appendStringInfoChar(buf, '}');
	}
}

/* Findings as the JSON array change_log.findings holds. */
char *
migguard_findings_json(List *findings)
{
	StringInfoData buf;

	initStringInfo(&buf);
	append_findings_json(&buf, findings);
	return psprintf("[%s]", buf.data);
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
 * event confirms those decisions instead of judging them twice.  A rewrite
 * no rule judged (unpredicted, or its rule turned off) is the event's.
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

		switch (f->rule)
		{
			case MG_RULE_ADD_COLUMN_REWRITE:
			case MG_RULE_ALTER_COLUMN_TYPE:
			case MG_RULE_TABLE_REWRITE:
			case MG_RULE_VACUUM_FULL:
			case MG_RULE_SET_TABLESPACE:
				break;
			default:
				continue;
		}
		if (rel == NULL || !OidIsValid(rel->relid))
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

/* One {type, schema: null, identity} object, for global objects. */
static void
append_global_object(StringInfo buf, const char *type, const char *name)
{
	appendStringInfoString(buf, buf->len ? ", {" : "{");
	append_json_string(buf, "type", type);
	append_json_string(buf, "schema", NULL);
	append_json_string(buf, "identity", quote_identifier(name));
	appendStringInfoChar(buf, '}');
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
	entry->rewrite = migguard_statement_replaces_storage(stmt);
	append_findings(entry, findings);
	append_global_objects(&entry->objects, parsetree);
	entry->judged_rewrites = judged_rewrites(findings);
	entry->userid = GetUserId();
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

/*
 * INSERT the entry's row through SPI, as the owner of change_log: nobody
 * else has, or needs, write access to it.
 */
static void
insert_row(AuditEntry *entry, Oid owner)
{
	static const char *const sql =
		"INSERT INTO migguard.change_log "
		"(logged_at, xid, pid, session_user_name, current_user_name,"
		" application_name, client_addr, command_tag, objects, statement,"
		" lock_mode, table_size, rewrite, verdict, findings, tag, nesting,"
		" attempts, lock_wait_ms) "
		"VALUES ($1, pg_catalog.pg_current_xact_id(), $2, $3, $4,"
		" NULLIF(pg_catalog.current_setting('application_name'), ''),"
		" pg_catalog.inet_client_addr(), $5, $6::pg_catalog.jsonb, $7, $8, $9,"
		" $10, $11, $12::pg_catalog.jsonb,"
		" $13, $14, $15, $16)";
	Oid			types[16] = {TIMESTAMPTZOID, INT4OID, TEXTOID, TEXTOID,
		TEXTOID, TEXTOID, TEXTOID, TEXTOID, INT8OID, BOOLOID, TEXTOID,
	TEXTOID, TEXTOID, INT4OID, INT4OID, INT8OID};
	Datum		values[16];
	char		nulls[16];
	Oid			saved_user;
	int			saved_sec;

	memset(nulls, ' ', sizeof(nulls));
	values[0] = TimestampTzGetDatum(entry->started);
	values[1] = Int32GetDatum(MyProcPid);
	values[2] = CStringGetTextDatum(GetUserNameFromId(GetSessionUserId(), false));
	values[3] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
	values[4] = CStringGetTextDatum(entry->command_tag);
	values[5] = CStringGetTextDatum(psprintf("[%s]", entry->objects.data));
	values[6] = CStringGetTextDatum(entry->statement);
	values[7] = CStringGetTextDatum(entry->lockmode ?
									GetLockmodeName(DEFAULT_LOCKMETHOD, entry->lockmode) : "");
	nulls[7] = entry->lockmode ? ' ' : 'n';
	values[8] = Int64GetDatum(entry->table_size);
	nulls[8] = entry->table_size >= 0 ? ' ' : 'n';
	values[9] = BoolGetDatum(entry->rewrite);
	values[10] = CStringGetTextDatum(migguard_verdict_name(entry->verdict));
	values[11] = CStringGetTextDatum(psprintf("[%s]", entry->findings.data));
	values[12] = CStringGetTextDatum(migguard_tag ? migguard_tag : "");
	nulls[12] = (migguard_tag && migguard_tag[0]) ? ' ' : 'n';
	values[13] = Int32GetDatum(entry->nesting);
	values[14] = Int32GetDatum(Max(migguard_last_lock_stats.attempts, 1));
	values[15] = Int64GetDatum(migguard_last_lock_stats.lock_wait_ms);

	GetUserIdAndSecContext(&saved_user, &saved_sec);
	SetUserIdAndSecContext(owner, saved_sec | SECURITY_LOCAL_USERID_CHANGE);
	PG_TRY();
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (SPI_execute_plan(kept_plan(&insert_plan, sql, 16, types),
							 values, nulls, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not insert into migguard.change_log");
		SPI_finish();
	}
	PG_CATCH();
	{
		SetUserIdAndSecContext(saved_user, saved_sec);
		PG_RE_THROW();
	}
	PG_END_TRY();
	SetUserIdAndSecContext(saved_user, saved_sec);
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
		Oid			owner = IsTransactionState() ? change_log_owner() : InvalidOid;

		if (OidIsValid(owner))
			insert_row(entry, owner);
	}
	PG_CATCH();
	{
		close_entry();
		PG_RE_THROW();
	}
	PG_END_TRY();
	close_entry();
}

/* ----------------------------------------------------------------
 * Event triggers
 * ----------------------------------------------------------------
 */

/*
 * Event-trigger set-returning functions are called directly, in
 * materialize mode, as the executor would: no SPI, no query text, so
 * nothing here depends on the caller's search_path, and no executor is
 * started for every DDL statement.
 */
typedef struct EventRows
{
	ExprContext *econtext;
	Tuplestorestate *rows;
	TupleTableSlot *slot;
	AttrNumber	type;			/* the columns both functions have */
	AttrNumber	schema;
	AttrNumber	identity;
} EventRows;

static AttrNumber event_column(EventRows *er, const char *name);

static void
event_rows_begin(EventRows *er, Oid fnoid)
{
	FmgrInfo	flinfo;
	ReturnSetInfo rsinfo;
	LOCAL_FCINFO(fcinfo, 0);

	er->econtext = CreateStandaloneExprContext();
	memset(&rsinfo, 0, sizeof(rsinfo));
	rsinfo.type = T_ReturnSetInfo;
	rsinfo.econtext = er->econtext;
	rsinfo.allowedModes = SFRM_Materialize;
	fmgr_info(fnoid, &flinfo);
	InitFunctionCallInfoData(*fcinfo, &flinfo, 0, InvalidOid, NULL, (Node *) &rsinfo);
	(void) FunctionCallInvoke(fcinfo);
	if (rsinfo.returnMode != SFRM_Materialize || rsinfo.setDesc == NULL)
		elog(ERROR, "event trigger function %u did not return a materialized set", fnoid);
	er->rows = rsinfo.setResult;
	er->slot = MakeSingleTupleTableSlot(rsinfo.setDesc, &TTSOpsMinimalTuple);
	er->type = event_column(er, "object_type");
	er->schema = event_column(er, "schema_name");
	er->identity = event_column(er, "object_identity");
}

static bool
event_rows_next(EventRows *er)
{
	return er->rows != NULL &&
		tuplestore_gettupleslot(er->rows, true, false, er->slot);
}

static void
event_rows_end(EventRows *er)
{
	ExecDropSingleTupleTableSlot(er->slot);
	if (er->rows != NULL)
		tuplestore_end(er->rows);
	FreeExprContext(er->econtext, true);
}

/* The attribute number of a result column, found by name. */
static AttrNumber
event_column(EventRows *er, const char *name)
{
	TupleDesc	desc = er->slot->tts_tupleDescriptor;

	for (int i = 0; i < desc->natts; i++)
		if (strcmp(NameStr(TupleDescAttr(desc, i)->attname), name) == 0)
			return i + 1;
	elog(ERROR, "event trigger function has no column \"%s\"", name);
	return InvalidAttrNumber;	/* keep the compiler quiet */
}

static char *
event_text(EventRows *er, AttrNumber attno)
{
	bool		isnull;
	Datum		value = slot_getattr(er->slot, attno, &isnull);

	return isnull ? NULL : TextDatumGetCString(value);
}

static bool
event_bool(EventRows *er, AttrNumber attno)
{
	bool		isnull;
	Datum		value = slot_getattr(er->slot, attno, &isnull);

	return !isnull && DatumGetBool(value);
}

/* Append the current row's {type, schema, identity} to the innermost entry. */
static void
append_object(EventRows *er)
{
	AuditEntry *entry = (AuditEntry *) llast(open_entries);
	MemoryContext old = MemoryContextSwitchTo(audit_memory());

	appendStringInfoString(&entry->objects, entry->objects.len ? ", {" : "{");
	append_json_string(&entry->objects, "type", event_text(er, er->type));
	append_json_string(&entry->objects, "schema", event_text(er, er->schema));
	append_json_string(&entry->objects, "identity", event_text(er, er->identity));
	appendStringInfoChar(&entry->objects, '}');
	MemoryContextSwitchTo(old);
}

PG_FUNCTION_INFO_V1(migguard_on_ddl_command_end);

Datum
migguard_on_ddl_command_end(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_EVENT_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("migguard.on_ddl_command_end() must be called as an event trigger")));
	if (open_entries != NIL)
	{
		EventRows	er;
		AttrNumber	in_extension;

		event_rows_begin(&er, F_PG_EVENT_TRIGGER_DDL_COMMANDS);
		in_extension = event_column(&er, "in_extension");
		while (event_rows_next(&er))
			if (!event_bool(&er, in_extension))
				append_object(&er);
		event_rows_end(&er);
	}
	PG_RETURN_NULL();
}

PG_FUNCTION_INFO_V1(migguard_on_sql_drop);

Datum
migguard_on_sql_drop(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_EVENT_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("migguard.on_sql_drop() must be called as an event trigger")));
	if (open_entries != NIL)
	{
		EventRows	er;
		AttrNumber	original,
					normal;

		event_rows_begin(&er, F_PG_EVENT_TRIGGER_DROPPED_OBJECTS);
		original = event_column(&er, "original");
		normal = event_column(&er, "normal");
		while (event_rows_next(&er))
		{
			char	   *type = event_text(&er, er.type);
			char	   *schema = event_text(&er, er.schema);

			/* Only what the statement names or cascades to; not its TOAST or types. */
			if ((event_bool(&er, original) || event_bool(&er, normal)) &&
				(type == NULL || strcmp(type, "type") != 0) &&
				(schema == NULL || strcmp(schema, "pg_toast") != 0))
				append_object(&er);
		}
		event_rows_end(&er);
	}
	PG_RETURN_NULL();
}

/* What a table_rewrite reason bit means, for the finding's reason. */
static const char *
rewrite_reason_text(int reason)
{
	if (reason & AT_REWRITE_ALTER_PERSISTENCE)
		return "a change of persistence (SET LOGGED or SET UNLOGGED)";
	if (reason & AT_REWRITE_ACCESS_METHOD)
		return "a change of access method";
	if (reason & AT_REWRITE_COLUMN_REWRITE)
		return "a column type change that rewrites every row (through a domain or an enum, for instance)";
	if (reason & AT_REWRITE_DEFAULT_VAL)
		return "a column value that must be computed for every row";
	return "an ALTER TABLE that rewrites every row";
}

PG_FUNCTION_INFO_V1(migguard_on_table_rewrite);

/*
 * The ground truth for rewrites: PostgreSQL is about to rewrite a table
 * (it holds the ACCESS EXCLUSIVE lock already).  The row records it; and
 * when no rule of the statement predicted this rewrite, the table_rewrite
 * rule judges it through the same rules, policy and act as the hook.
 */
Datum
migguard_on_table_rewrite(PG_FUNCTION_ARGS)
{
	AuditEntry *entry = open_entries ? (AuditEntry *) llast(open_entries) : NULL;
	Oid			relid;
	int			reason;
	MemoryContext analysis;
	MemoryContext old;
	MigguardStatement *stmt;
	MigguardOp *op;
	List	   *findings;
	MigguardVerdict verdict;
	Oid			saved_user;
	int			saved_sec;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_EVENT_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("migguard.on_table_rewrite() must be called as an event trigger")));

	relid = DatumGetObjectId(OidFunctionCall0(F_PG_EVENT_TRIGGER_TABLE_REWRITE_OID));
	reason = DatumGetInt32(OidFunctionCall0(F_PG_EVENT_TRIGGER_TABLE_REWRITE_REASON));
	if (entry)
		entry->rewrite = true;

	if (migguard_mode == MG_MODE_OFF || creating_extension || IsBinaryUpgrade ||
		(entry && list_member_oid(entry->judged_rewrites, relid)))
		PG_RETURN_NULL();

	analysis = AllocSetContextCreate(CurrentMemoryContext, "migguard rewrite",
									 ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(analysis);

	stmt = palloc0(sizeof(MigguardStatement));
	stmt->text = entry ? entry->statement : "";
	stmt->command_tag = entry ? entry->command_tag : "ALTER TABLE";
	op = palloc0(sizeof(MigguardOp));
	op->kind = MG_OP_TABLE_REWRITE;
	op->lockmode = AccessExclusiveLock;
	op->rel = migguard_describe_relation(relid);
	op->detail = pstrdup(stmt->command_tag);
	op->object = pstrdup(rewrite_reason_text(reason));
	op->stmt_text = stmt->text;
	stmt->ops = list_make1(op);

	/*
	 * Judge as the user who ran the statement, not as this SECURITY DEFINER
	 * function's owner: override_role membership depends on it.
	 */
	GetUserIdAndSecContext(&saved_user, &saved_sec);
	if (entry)
		SetUserIdAndSecContext(entry->userid, saved_sec);
	findings = migguard_evaluate(stmt);
	verdict = migguard_decide(findings);
	SetUserIdAndSecContext(saved_user, saved_sec);
	migguard_act(stmt, findings, verdict, entry ? entry->nesting : 0);	/* may ERROR */

	if (entry && findings != NIL)
	{
		MemoryContextSwitchTo(audit_memory());
		append_findings(entry, findings);
		if (verdict > entry->verdict)
			entry->verdict = verdict;
		entry->judged_rewrites = lappend_oid(entry->judged_rewrites, relid);
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(analysis);
	PG_RETURN_NULL();
}
