/*-------------------------------------------------------------------------
 *
 * stats.h
 *		Shared-memory counters behind the view migguard.stats (stats.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGGUARD_STATS_H
#define MIGGUARD_STATS_H

#include "migguard.h"

typedef enum MigguardStat
{
	MG_STAT_JUDGED,
	MG_STAT_ALLOWED,
	MG_STAT_WARNED,
	MG_STAT_OVERRIDDEN,
	MG_STAT_BLOCKED,
	MG_STAT_LOCK_TIMEOUTS,
	MG_STAT_RETRIES,
	MG_STAT_RETRIES_SUCCEEDED,
	MG_STAT_LOCK_WAIT_MS,
	MG_STAT_LONGEST_HOLD_MS,	/* a maximum, not a sum */
	MG_NUM_STATS
} MigguardStat;

extern void migguard_stats_init(void);

/* A judged statement: its verdict, and each finding under its rule. */
extern void migguard_stats_count_statement(MigguardVerdict verdict);
extern void migguard_stats_count_findings(List *findings);

/* Statement-level lock counters (lockguard.c). */
extern void migguard_stats_add(MigguardStat stat, uint64 n);

/*
 * A strong lock was held for ms milliseconds (holds.c, at the release): the
 * longest such hold of this database is kept.
 */
extern void migguard_stats_record_lock_hold(int64 ms);

#endif							/* MIGGUARD_STATS_H */
