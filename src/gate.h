/*-------------------------------------------------------------------------
 *
 * gate.h
 *		Which statements migguard looks at (gate.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGGUARD_GATE_H
#define MIGGUARD_GATE_H

#include "postgres.h"

#include "nodes/parsenodes.h"

/*
 * The statements every transaction has (BEGIN/COMMIT, SET, SHOW) and those
 * that only look up or wrap another (PREPARE, EXECUTE, DECLARE CURSOR):
 * never DDL and no statement kind of stmtkind.c.  The hook's fast path:
 * one switch, inline, before any other test.
 */
static inline bool
migguard_is_routine_statement(Node *parsetree)
{
	switch (nodeTag(parsetree))
	{
		case T_TransactionStmt:
		case T_VariableSetStmt:
		case T_VariableShowStmt:
		case T_ExecuteStmt:
		case T_PrepareStmt:
		case T_DeclareCursorStmt:
			return true;
		default:
			return false;
	}
}

extern bool migguard_is_ddl(Node *parsetree);
extern CreateTableAsStmt *migguard_explained_ctas(Node *parsetree);

#endif							/* MIGGUARD_GATE_H */
