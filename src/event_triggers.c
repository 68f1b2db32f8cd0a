/*-------------------------------------------------------------------------
 *
 * event_triggers.c
 *		The C functions of migguard's event triggers: ddl_command_end,
 *		sql_drop and table_rewrite.
 *
 * The first two add the objects a statement created, altered or dropped to
 * the innermost open audit entry (audit.c); migguard_event_add_created does
 * the same for the relation an EXPLAIN ANALYZE CREATE TABLE AS created,
 * which no event trigger sees.  table_rewrite is the ground truth for
 * rewrites: it marks the entry's row, and a rewrite no rule of the
 * statement judged (a rule of category "rewrite" in rules.c's catalog) is
 * judged here by the same rules, policy and act as the hook.
 *
 *-------------------------------------------------------------------------
 */
#include "event_triggers.h"
#include "act.h"
#include "audit.h"
#include "facts.h"
#include "judge.h"
#include "relsize.h"
#include "stats.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_class.h"
#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "executor/executor.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"

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
	migguard_audit_add_object(event_text(er, er->type),
							  event_text(er, er->schema),
							  event_text(er, er->identity));
}

/*
 * After an EXPLAIN ANALYZE of a CREATE TABLE AS ran (migguard_explained_ctas):
 * add the relation it created to the innermost entry, named as
 * pg_event_trigger_ddl_commands() names it (type, schema with
 * get_namespace_name_or_temp, getObjectIdentity).  The relation is found in
 * the namespace it was created in (RangeVarGetCreationNamespace, as
 * create_ctas_internal does), and only if this statement created it: its
 * pg_class row is this transaction's, from a command at or after "since".
 * IF NOT EXISTS over an existing relation creates nothing.
 */
void
migguard_event_add_created(CreateTableAsStmt *ctas, CommandId since)
{
	ObjectAddress addr;
	HeapTuple	tup;
	Oid			nspid;
	bool		created;

	if (!migguard_audit_is_open())
		return;
	nspid = RangeVarGetCreationNamespace(ctas->into->rel);
	ObjectAddressSet(addr, RelationRelationId,
					 get_relname_relid(ctas->into->rel->relname, nspid));
	if (!OidIsValid(addr.objectId))
		return;
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(addr.objectId));
	if (!HeapTupleIsValid(tup))
		return;
	created = TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(tup->t_data)) &&
		HeapTupleHeaderGetCmin(tup->t_data) >= since;
	ReleaseSysCache(tup);
	if (!created)
		return;

	migguard_audit_add_object(getObjectTypeDescription(&addr, false),
							  get_namespace_name_or_temp(nspid),
							  getObjectIdentity(&addr, false));
}

/* The functions are SQL-callable: refuse a plain call, as trigger.c does. */
static void
require_event_trigger(FunctionCallInfo fcinfo, const char *name)
{
	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_EVENT_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("%s must be called as an event trigger", name)));
}

PG_FUNCTION_INFO_V1(migguard_on_ddl_command_end);

Datum
migguard_on_ddl_command_end(PG_FUNCTION_ARGS)
{
	require_event_trigger(fcinfo, "migguard.on_ddl_command_end()");
	if (migguard_audit_is_open())
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
	require_event_trigger(fcinfo, "migguard.on_sql_drop()");
	if (migguard_audit_is_open())
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
	MigguardAnalysis cx = {0};
	MigguardAuditedStatement audited;
	bool		in_entry;
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

	require_event_trigger(fcinfo, "migguard.on_table_rewrite()");

	relid = DatumGetObjectId(OidFunctionCall0(F_PG_EVENT_TRIGGER_TABLE_REWRITE_OID));
	reason = DatumGetInt32(OidFunctionCall0(F_PG_EVENT_TRIGGER_TABLE_REWRITE_REASON));
	in_entry = migguard_audit_rewrite(relid, &audited);

	if (migguard_mode == MG_MODE_OFF || creating_extension || IsBinaryUpgrade ||
		(in_entry && audited.rewrite_judged))
		PG_RETURN_NULL();

	analysis = AllocSetContextCreate(CurrentMemoryContext, "migguard rewrite",
									 ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(analysis);

	stmt = migguard_new_statement(&cx, in_entry ? audited.statement : "",
								  in_entry ? audited.command_tag : "ALTER TABLE");
	op = migguard_add_op(stmt, MG_OP_TABLE_REWRITE, AccessExclusiveLock,
						 migguard_describe_relation(&cx, relid));
	op->command = pstrdup(stmt->command_tag);
	op->rewrite_reason = pstrdup(rewrite_reason_text(reason));

	/*
	 * Judge as the user who ran the statement, not as this SECURITY DEFINER
	 * function's owner: override_role membership depends on it.
	 */
	GetUserIdAndSecContext(&saved_user, &saved_sec);
	if (in_entry)
		SetUserIdAndSecContext(audited.userid, saved_sec);
	verdict = migguard_judge_statement(stmt, &findings);
	SetUserIdAndSecContext(saved_user, saved_sec);
	/* The statement is counted by the hook; the rewrite's findings here. */
	migguard_stats_count_findings(findings);
	migguard_act(stmt, findings, verdict, in_entry ? audited.nesting : 0);	/* may ERROR */

	if (in_entry && findings != NIL)
		migguard_audit_add_rewrite_findings(relid, findings, verdict);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(analysis);
	PG_RETURN_NULL();
}
