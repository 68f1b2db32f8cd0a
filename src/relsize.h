/*-------------------------------------------------------------------------
 *
 * relsize.h
 *		Relation facts (relsize.c): a MigguardRelation, its size, whether
 *		it is new in this transaction, whether it holds a row, and whether
 *		migguard.check()'s caller may see it.  Below classify and rules.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGGUARD_RELSIZE_H
#define MIGGUARD_RELSIZE_H

#include "migguard.h"

/* How check() names a relation its caller may not see. */
#define MIGGUARD_HIDDEN_RELATION "(a relation in a schema you have no access to)"

extern MigguardRelation *migguard_describe_relation(const MigguardAnalysis *cx,
													Oid relid);
extern bool migguard_caller_may_see(const MigguardAnalysis *cx, Oid relid);
extern MigguardEmptiness migguard_probe_emptiness(MigguardAnalysis *cx,
												  MigguardRelation *rel,
												  LOCKMODE lockmode);
extern int64 migguard_relation_size(Oid relid);
extern int64 migguard_relation_bytes(const MigguardRelation *rel);
extern bool migguard_relation_is_new(Oid relid);

#endif							/* MIGGUARD_RELSIZE_H */
