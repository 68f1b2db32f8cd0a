/*-------------------------------------------------------------------------
 *
 * facts.h
 *		Building the facts of one statement (facts.c): an empty
 *		MigguardStatement, its ops and lock facts, and the lookups every
 *		part of the classifier shares (classify.c, stmtkind.c, hazards.c)
 *		and the callers whose facts come from an event (event_triggers.c,
 *		dml_watch.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGGUARD_FACTS_H
#define MIGGUARD_FACTS_H

#include "migguard.h"

#include "access/genam.h"

extern MigguardStatement *migguard_new_statement(MigguardAnalysis *cx,
												 const char *text,
												 const char *command_tag);
extern MigguardOp *migguard_add_op(MigguardStatement *stmt, MigguardOpKind kind,
								   LOCKMODE lockmode, MigguardRelation *rel);
extern void migguard_add_lock(MigguardStatement *stmt, MigguardRelation *rel,
							  LOCKMODE lockmode);
extern Oid	migguard_lookup_relid(const MigguardAnalysis *cx, RangeVar *rv);
extern bool migguard_created_in_script(const MigguardAnalysis *cx, RangeVar *rv);
extern bool migguard_defelem_is_true(List *options, const char *name);
extern AclMode migguard_lock_table_aclmask(LOCKMODE mode);
extern SysScanDesc migguard_dependents_scan(Relation depend, Oid refclassid,
											Oid refobjid, int32 refobjsubid);

#endif							/* MIGGUARD_FACTS_H */
