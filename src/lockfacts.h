/*-------------------------------------------------------------------------
 *
 * lockfacts.h
 *		What the analysis knows about locks: which modes block queries,
 *		which of a statement's locks may queue other sessions, the lock
 *		timeout in effect, and the analysis' own probe locks.  Below
 *		classify, relsize, rules, hazards and lockguard; calls only
 *		PostgreSQL.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGGUARD_LOCKFACTS_H
#define MIGGUARD_LOCKFACTS_H

#include "migguard.h"

extern int	migguard_effective_lock_timeout(void);
extern bool migguard_lock_blocks_others(const MigguardOp *op);
extern bool migguard_lock_needs_protection(const MigguardAnalysis *cx,
										   const MigguardOp *op);

/* The analysis' probes: conditional locks, never waiting. */
extern LOCKMODE migguard_probe_lock(const MigguardAnalysis *cx,
									LOCKMODE statement_lock);
extern bool migguard_probe_relation(MigguardAnalysis *cx, Oid relid,
									LOCKMODE statement_lock);

#endif							/* MIGGUARD_LOCKFACTS_H */
