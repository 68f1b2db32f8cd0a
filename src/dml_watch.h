/*-------------------------------------------------------------------------
 *
 * dml_watch.h
 *		The rule dml_under_lock, judged at ExecutorEnd (dml_watch.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGGUARD_DML_WATCH_H
#define MIGGUARD_DML_WATCH_H

#include "migguard.h"

#include "executor/execdesc.h"

extern void migguard_judge_dml(QueryDesc *queryDesc, int nesting);

#endif							/* MIGGUARD_DML_WATCH_H */
