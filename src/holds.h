/*-------------------------------------------------------------------------
 *
 * holds.h
 *		The locks that block reads or writes (SHARE and stronger) this
 *		transaction took through statements migguard saw: since when, and
 *		how long they were held (issue 15, items 2-4).
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGGUARD_HOLDS_H
#define MIGGUARD_HOLDS_H

#include "migguard.h"

/* One relation this transaction holds in a mode that blocks queries. */
typedef struct MigguardHold
{
	Oid			relid;
	LOCKMODE	mode;			/* the strongest mode taken so far */
	char	   *name;			/* "schema.table", kept for the log line */
	bool		large;			/* at or above migguard.large_table_size */
	TimestampTz since;			/* the taking statement started (its lock
								 * wait included) */
	SubTransactionId subid;		/* released when this subtransaction aborts */
} MigguardHold;

/*
 * True while this transaction holds such a lock on a large table: the one
 * test the executor hook makes before anything else (dml_under_lock).
 */
extern bool migguard_dml_watch;

extern void migguard_holds_init(void);
extern void migguard_holds_remember(Oid relid, LOCKMODE mode, TimestampTz since,
									 int64 size);
extern List *migguard_holds_current(void);

#endif							/* MIGGUARD_HOLDS_H */
