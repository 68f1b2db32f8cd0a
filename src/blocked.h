/*-------------------------------------------------------------------------
 *
 * blocked.h
 *		The blocked-attempt queue and its background worker (blocked.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGGUARD_BLOCKED_H
#define MIGGUARD_BLOCKED_H

#include "migguard.h"

extern int	migguard_blocked_queue_size;
extern void migguard_blocked_init(void);
extern void migguard_blocked_enqueue(MigguardStatement *stmt, List *findings,
									 int nesting);

#endif							/* MIGGUARD_BLOCKED_H */
