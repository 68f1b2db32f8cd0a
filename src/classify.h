/*-------------------------------------------------------------------------
 *
 * classify.h
 *		Statement -> facts (classify.c): which statements migguard looks at,
 *		and the MigguardStatement of one of them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGGUARD_CLASSIFY_H
#define MIGGUARD_CLASSIFY_H

#include "migguard.h"

#include "access/genam.h"

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

extern bool migguard_is_checked_statement(Node *parsetree);
extern bool migguard_defelem_is_true(List *options, const char *name);
extern MigguardStatement *migguard_classify(MigguardAnalysis *cx,
											Node *parsetree,
											const char *stmt_text);
extern MigguardStatement *migguard_new_statement(MigguardAnalysis *cx,
												 const char *text,
												 const char *command_tag);
/* For the parts of classify: stmtkind.c (the kinds' locks), hazards.c */
extern Oid	migguard_lookup_relid(const MigguardAnalysis *cx, RangeVar *rv);
extern void migguard_add_lock(MigguardStatement *stmt, MigguardRelation *rel,
							  LOCKMODE lockmode);
extern AclMode migguard_lock_table_aclmask(LOCKMODE mode);
extern SysScanDesc migguard_dependents_scan(Relation depend, Oid refclassid,
											Oid refobjid, int32 refobjsubid);
extern MigguardOp *migguard_add_op(MigguardStatement *stmt, MigguardOpKind kind,
								   LOCKMODE lockmode, MigguardRelation *rel);

#endif							/* MIGGUARD_CLASSIFY_H */
