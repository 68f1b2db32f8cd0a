/*-------------------------------------------------------------------------
 *
 * subxact.h
 *		Run a function in an internal subtransaction (subxact.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGGUARD_SUBXACT_H
#define MIGGUARD_SUBXACT_H

#include "utils/elog.h"

extern ErrorData *migguard_subtransaction(void (*fn) (void *), void *arg,
										  bool catch_cancel);
extern char *migguard_run_in_subtransaction(void (*fn) (void *), void *arg);

#endif							/* MIGGUARD_SUBXACT_H */
