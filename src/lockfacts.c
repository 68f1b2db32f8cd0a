/*-------------------------------------------------------------------------
 *
 * lockfacts.c
 *		Lock facts of the analysis.  A lock of SHARE or stronger on a table
 *		other sessions can see blocks their reads or writes, and while the
 *		statement waits for it, every later query on the table queues
 *		behind it: such a lock needs protection (lockguard.c) unless this
 *		transaction holds it already.
 *
 * The analysis itself locks relations only through migguard_probe_relation:
 * conditionally (never waiting), in the statement's own mode in the hook
 * (so the statement never upgrades it later) or ACCESS SHARE in a dry run
 * (migguard.check(): nothing else follows).  Each probe is remembered in
 * the analysis context: a lock held only because a probe got it does not
 * mean the statement cannot queue, so whether a probe happened to get its
 * lock never changes the guard's decision.
 *
 *-------------------------------------------------------------------------
 */
#include "lockfacts.h"

#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/proc.h"

/* SHARE and every stronger mode block writes, reads, or both. */
static bool
lock_blocks_queries(LOCKMODE mode)
{
	return mode >= ShareLock;
}

/*
 * The lock timeout (ms) a protected statement runs with: the session's
 * own when it is set and not larger than migguard.lock_timeout, else
 * migguard's.  0 when neither is set.
 */
int
migguard_effective_lock_timeout(void)
{
	if (migguard_lock_timeout_ms > 0 &&
		(LockTimeout == 0 || LockTimeout > migguard_lock_timeout_ms))
		return migguard_lock_timeout_ms;
	return LockTimeout;
}

/*
 * Whether this backend already holds a lock on the relation at least as
 * strong as mode.  For SHARE and above, the numeric order of lock modes is
 * their strength order.  Such a statement cannot queue.
 */
static bool
lock_already_held(Oid relid, LOCKMODE mode)
{
	LOCKTAG		tag;

	SET_LOCKTAG_RELATION(tag, MyDatabaseId, relid);
	for (LOCKMODE held = mode; held <= MaxLockMode; held++)
		if (mg_lock_held_by_me(&tag, held))
			return true;
	return false;
}

LOCKMODE
migguard_probe_lock(const MigguardAnalysis *cx, LOCKMODE statement_lock)
{
	return cx->dry_run ? AccessShareLock : statement_lock;
}

/*
 * The analysis' only way to lock a relation: conditionally, in the mode
 * migguard_probe_lock says, remembered as a probe of this analysis.
 */
bool
migguard_probe_relation(MigguardAnalysis *cx, Oid relid, LOCKMODE statement_lock)
{
	LOCKMODE	mode = migguard_probe_lock(cx, statement_lock);
	bool		held = lock_already_held(relid, mode);

	if (!ConditionalLockRelationOid(relid, mode))
		return false;
	if (!held && !list_member_oid(cx->probed_relids, relid))
		cx->probed_relids = lappend_oid(cx->probed_relids, relid);
	return true;
}

/* Held before the statement, not merely by one of its probes. */
static bool
lock_held_before_statement(const MigguardAnalysis *cx, Oid relid, LOCKMODE mode)
{
	return !list_member_oid(cx->probed_relids, relid) &&
		lock_already_held(relid, mode);
}

/*
 * Whether a lock fact blocks other sessions' queries: SHARE or stronger,
 * taken by this statement (not held since an earlier one), on a relation
 * other sessions can see.
 */
bool
migguard_lock_blocks_others(const MigguardOp *op)
{
	return op->kind == MG_OP_OTHER_LOCK && !(op->flags & MG_F_HELD_EARLIER) &&
		lock_blocks_queries(op->lockmode) &&
		!migguard_relation_is_exempt(op->rel) && OidIsValid(op->rel->relid);
}

/*
 * Whether the statement may have to wait for such a lock: it can queue
 * (not NOWAIT, not an index nobody opens), and this transaction does not
 * hold it already.
 */
bool
migguard_lock_needs_protection(const MigguardAnalysis *cx, const MigguardOp *op)
{
	return migguard_lock_blocks_others(op) &&
		!(op->flags & MG_F_NEVER_QUEUES) &&
		!lock_held_before_statement(cx, op->rel->relid, op->lockmode);
}
