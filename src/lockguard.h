/*-------------------------------------------------------------------------
 *
 * lockguard.h
 *		Lock-queue protection: migguard.lock_timeout, retries with back-off,
 *		and the report of blocking sessions.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGGUARD_LOCKGUARD_H
#define MIGGUARD_LOCKGUARD_H

#include "migguard.h"

#include "tcop/utility.h"

/*
 * What lock protection cost the last protected statement of this backend.
 * Kept for the audit log (change_log has no columns for it yet).
 */
typedef struct MigguardLockStats
{
	int			attempts;		/* executions, 1 when the first one succeeded */
	int64		lock_wait_ms;	/* time spent in attempts that timed out */
	int64		backoff_ms;		/* time slept between attempts */
} MigguardLockStats;

extern MigguardLockStats migguard_last_lock_stats;

/* What the hook hands from the analysis to the execution of a statement. */
typedef struct MigguardLockGuard MigguardLockGuard;

/* Facts and predicates for classify.c and rules.c */
extern bool migguard_lock_blocks_queries(LOCKMODE mode);
extern int	migguard_effective_lock_timeout(void);
extern bool migguard_lock_needs_protection(const MigguardOp *op);

/* Probe locks of the analysis (classify.c, relsize.c) */
extern bool migguard_probe_relation(Oid relid, LOCKMODE statement_lock);
extern void migguard_probes_reset(void);

/* The hook */
extern MigguardLockGuard *migguard_lock_guard(MigguardStatement *stmt,
											  Node *parsetree,
											  bool is_toplevel,
											  MemoryContext context);
extern void migguard_run_guarded(MigguardLockGuard *guard,
								 ProcessUtility_hook_type next,
								 MG_PROCESS_UTILITY_PARAMS);

#endif							/* MIGGUARD_LOCKGUARD_H */
