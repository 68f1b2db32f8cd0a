/*-------------------------------------------------------------------------
 *
 * stmtkind.h
 *		The table of DDL statement kinds: which statements migguard looks
 *		at, which locks each takes beyond the ones classify.c names, and
 *		whether it runs inside the current transaction.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGGUARD_STMTKIND_H
#define MIGGUARD_STMTKIND_H

#include "migguard.h"

extern bool migguard_stmt_kind_known(Node *parsetree);
extern bool migguard_stmt_runs_in_transaction(Node *parsetree);
extern bool migguard_stmt_commits_internally(Node *parsetree);
extern bool migguard_stmt_waits_for_others_only(Node *parsetree);
extern void migguard_classify_kind_locks(MigguardStatement *stmt,
										 Node *parsetree);
extern bool migguard_statement_replaces_storage(const MigguardStatement *stmt,
												Node *parsetree);

#endif							/* MIGGUARD_STMTKIND_H */
