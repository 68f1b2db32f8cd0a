/*-------------------------------------------------------------------------
 *
 * dml_watch.c
 *		The rule dml_under_lock: at ExecutorEnd (the hook is migguard.c's),
 *		UPDATE, DELETE, MERGE and INSERT ... SELECT are judged while this
 *		transaction holds a lock that blocks reads or writes of a large
 *		table (holds.c keeps those holds and the flag migguard_dml_watch).
 *		Its facts come from the executor, not from a parse tree, so it is a
 *		caller of the pipeline (judge.c, act.c) beside the ProcessUtility
 *		hook, and above holds.c, which the classifier and the lock guard
 *		use below it.
 *
 * While no such lock is held the hook costs one test of that flag and
 * never calls in here.  Nothing runs in parallel workers (the flag stays
 * false there).
 *
 *-------------------------------------------------------------------------
 */
#include "dml_watch.h"
#include "act.h"
#include "facts.h"
#include "holds.h"
#include "judge.h"
#include "relsize.h"

#include "access/parallel.h"
#include "access/xact.h"

/* INSERT ... SELECT: the planned range table keeps the *SELECT* subquery. */
static bool
insert_from_query(PlannedStmt *pstmt)
{
	ListCell   *lc;

	foreach(lc, pstmt->rtable)
		if (lfirst_node(RangeTblEntry, lc)->rtekind == RTE_SUBQUERY)
			return true;
	return false;
}

static const char *
dml_command(QueryDesc *queryDesc)
{
	switch (queryDesc->operation)
	{
		case CMD_UPDATE:
			return "UPDATE";
		case CMD_DELETE:
			return "DELETE";
		case CMD_INSERT:
			return insert_from_query(queryDesc->plannedstmt) ?
				"INSERT ... SELECT" : NULL;
		default:
			return MG_CMD_IS_MERGE(queryDesc->operation) ? "MERGE" : NULL;
	}
}

/*
 * The DML ran to its end under the holds: one op per held large table,
 * judged by the one pipeline (judge.c) and reported (act.c).
 */
void
migguard_judge_dml(QueryDesc *queryDesc, int nesting)
{
	const char *command;
	MigguardAnalysis cx = {0};
	MigguardStatement *stmt;
	List	   *findings;
	MigguardVerdict verdict;
	ListCell   *lc;

	if (IsParallelWorker() || queryDesc->estate == NULL ||
		(queryDesc->estate->es_top_eflags & EXEC_FLAG_EXPLAIN_ONLY) ||
		migguard_mode == MG_MODE_OFF || !IsTransactionState())
		return;
	command = dml_command(queryDesc);
	if (command == NULL)
		return;

	stmt = migguard_new_statement(&cx, queryDesc->sourceText, command);
	foreach(lc, migguard_holds_current())
	{
		MigguardHold *hold = (MigguardHold *) lfirst(lc);
		MigguardOp *op;

		if (!hold->large)
			continue;
		op = migguard_add_op(stmt, MG_OP_DML_UNDER_LOCK, hold->mode,
							 migguard_describe_relation(&cx, hold->relid));
		op->command = pstrdup(command);
		op->rows = queryDesc->estate->es_processed;
	}
	verdict = migguard_judge_statement(stmt, &findings);
	migguard_act(stmt, findings, verdict, nesting);
}
