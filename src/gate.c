/*-------------------------------------------------------------------------
 *
 * gate.c
 *		Which statements migguard looks at: the hook's DDL gate.
 *
 * The hook's first test is migguard_is_routine_statement (gate.h, inline):
 * the statements every transaction has leave after one node-tag switch.
 * What remains is DDL when PostgreSQL's own log_statement = 'ddl'
 * classification says so (migguard_is_ddl), and EXPLAIN ANALYZE of a CREATE
 * TABLE AS, which creates a relation without passing it to ProcessUtility
 * (migguard_explained_ctas).  No catalog access, no allocation.
 *
 *-------------------------------------------------------------------------
 */
#include "gate.h"

#include "tcop/utility.h"
#include "utils/builtins.h"

/*
 * Whether an EXPLAIN option list asks for ANALYZE, as ExplainQuery reads it
 * (the last "analyze" wins, no argument means true), without raising: a
 * value defGetBoolean would reject is answered true, and PostgreSQL then
 * raises its own error before anything runs.  No catalog access.
 */
static bool
explain_analyzes(List *options)
{
	bool		analyze = false;
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *opt = (DefElem *) lfirst(lc);
		bool		value;

		if (strcmp(opt->defname, "analyze") != 0)
			continue;
		if (opt->arg == NULL)
			analyze = true;
		else if (IsA(opt->arg, Boolean))
			analyze = boolVal(opt->arg);
		else if (IsA(opt->arg, Integer))
			analyze = intVal(opt->arg) != 0;
		else if (IsA(opt->arg, String) && parse_bool(strVal(opt->arg), &value))
			analyze = value;
		else
			analyze = true;
	}
	return analyze;
}

/*
 * The CREATE TABLE AS (also SELECT INTO and CREATE MATERIALIZED VIEW) that
 * an EXPLAIN ANALYZE runs, or NULL.  ExplainOneUtility plans its query and
 * ExplainOnePlan executes it into a new relation (CreateIntoRelDestReceiver)
 * without passing it to ProcessUtility, so neither the hook nor the event
 * triggers see it; plain EXPLAIN creates nothing.  GetCommandLogLevel looks
 * through EXPLAIN ANALYZE to the contained statement the same way.
 */
CreateTableAsStmt *
migguard_explained_ctas(Node *parsetree)
{
	ExplainStmt *explain = (ExplainStmt *) parsetree;
	Query	   *query;

	if (!IsA(parsetree, ExplainStmt) || !IsA(explain->query, Query) ||
		!explain_analyzes(explain->options))
		return NULL;
	query = (Query *) explain->query;
	if (query->commandType != CMD_UTILITY ||
		!IsA(query->utilityStmt, CreateTableAsStmt))
		return NULL;
	return (CreateTableAsStmt *) query->utilityStmt;
}

/*
 * Whether a statement is a schema change worth a row: PostgreSQL's own
 * log_statement = 'ddl' classification.  Statements that merely look up a
 * prepared statement or wrap a query are not; nor, answered without
 * GetCommandLogLevel because every transaction has them, are BEGIN/COMMIT,
 * SET and SHOW (migguard_is_routine_statement).
 */
bool
migguard_is_ddl(Node *parsetree)
{
	if (migguard_is_routine_statement(parsetree))
		return false;
	if (IsA(parsetree, ExplainStmt))
		return migguard_explained_ctas(parsetree) != NULL;
	return GetCommandLogLevel(parsetree) == LOGSTMT_DDL;
}

