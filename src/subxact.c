/*-------------------------------------------------------------------------
 *
 * subxact.c
 *		migguard's one subtransaction runner: the analysis and check() (each
 *		statement of a script), the lock guard's attempts (lockguard.c) and
 *		the audit rows that must not raise (audit.c).  Calls only
 *		PostgreSQL.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "subxact.h"

#include "access/xact.h"
#include "utils/resowner.h"

/*
 * Run fn(arg) in an internal subtransaction, as plpgsql's exec_stmt_block
 * runs an EXCEPTION block.  NULL when it completed: what it took, locks
 * included, passes to the enclosing transaction.  Otherwise the error, with
 * the subtransaction rolled back and whatever fn took released.  A cancel
 * or a timeout (57014) is not fn's failure and is raised on, unless
 * catch_cancel.
 */
ErrorData *
migguard_subtransaction(void (*fn) (void *), void *arg, bool catch_cancel)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	ErrorData  *volatile edata = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);
	PG_TRY();
	{
		fn(arg);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED && !catch_cancel)
			PG_RE_THROW();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
	}
	PG_END_TRY();
	return edata;
}

/* The same, for the analysis: NULL or the error's message. */
char *
migguard_run_in_subtransaction(void (*fn) (void *), void *arg)
{
	ErrorData  *edata = migguard_subtransaction(fn, arg, false);

	return edata ? edata->message : NULL;
}
