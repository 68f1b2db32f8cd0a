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
