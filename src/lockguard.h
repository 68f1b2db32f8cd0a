/*-------------------------------------------------------------------------
 *
 * lockguard.h
 *		Lock-queue protection, the execution side: migguard.lock_timeout,
 *		retries with back-off, and the report of blocking sessions.  The
 *		facts it acts on (which locks need protection) are lockfacts.h's.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGGUARD_LOCKGUARD_H
#define MIGGUARD_LOCKGUARD_H

#include "migguard.h"

#include "tcop/utility.h"

/*
 * What lock protection cost the last protected statement of this backend:
 * change_log's attempts and lock_wait_ms columns (audit.c).
 */
typedef struct MigguardLockStats
{
	int			attempts;		/* executions, 1 when the first one succeeded */
	int64		lock_wait_ms;	/* time spent in attempts that timed out */
} MigguardLockStats;

extern MigguardLockStats migguard_last_lock_stats;

/* What the hook hands from the analysis to the execution of a statement. */
typedef struct MigguardLockGuard MigguardLockGuard;

/* The hook (migguard.c) is its one caller. */
extern MigguardLockGuard *migguard_lock_guard(MigguardStatement *stmt,
											  Node *parsetree,
											  bool is_toplevel,
											  MemoryContext context);
extern void migguard_run_guarded(MigguardLockGuard *guard,
								 ProcessUtility_hook_type next,
								 MG_PROCESS_UTILITY_PARAMS);

#endif							/* MIGGUARD_LOCKGUARD_H */
