/*-------------------------------------------------------------------------
 *
 * hazards.h
 *		Migration-level hazards (issue 15): facts that depend on the
 *		statements before this one, in the transaction (the hook) or in the
 *		script (migguard.check()).
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGGUARD_HAZARDS_H
#define MIGGUARD_HAZARDS_H

#include "migguard.h"

/* For classify.c: the facts */
extern bool migguard_is_hazard_statement(Node *parsetree);
extern void migguard_classify_column_defaults(MigguardStatement *stmt,
											  MigguardRelation *rel,
											  LOCKMODE lockmode, List *cmds);
extern void migguard_classify_fk_index(MigguardStatement *stmt, MigguardOp *op,
									   Constraint *con, const char *column);
extern void migguard_classify_enum_rename(MigguardStatement *stmt,
										  AlterEnumStmt *alter);
extern void migguard_add_held_locks(MigguardStatement *stmt);

/* For check.c: what the script did so far (MigguardAnalysis.script) */
typedef struct MigguardScript MigguardScript;

extern bool migguard_script_added_column(const MigguardAnalysis *cx, Oid relid,
										 const char *column);
extern void migguard_script_note(MigguardAnalysis *cx,
								 MemoryContext script_context,
								 Node *parsetree, MigguardStatement *stmt);

#endif							/* MIGGUARD_HAZARDS_H */
