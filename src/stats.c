/*-------------------------------------------------------------------------
 *
 * stats.c
 *		Live counters of the guard in shared memory: the view migguard.stats
 *		and migguard.stats_reset().
 *
 * One entry per database, in a fixed table of STATS_DATABASES entries,
 * each a fixed array of pg_atomic_uint64 counters: row 0 counts
 * statements (rule NULL in the view), row 1 + r counts the findings of
 * rule r.  Counting takes no lock: an entry is claimed once with a
 * compare-and-swap of its database OID, and each backend remembers its
 * entry; counters are atomic adds (the longest hold a compare-and-swap
 * loop).  When the table is full, the databases that found no entry share
 * the last one, shown with database NULL ("other databases"); an entry is
 * never given back while the server runs (a dropped database keeps its
 * numbers until stats_reset()).  Counters start at zero at server start
 * and are not persisted.  stats_reset() sets every counter to zero without
 * a lock: an increment racing with it may survive.
 *
 *-------------------------------------------------------------------------
 */
#include "migguard.h"
#include "rules.h"
#include "stats.h"

#include "commands/dbcommands.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"

#define STATS_DATABASES 64		/* the last one is "other databases" */
#define STATS_ROWS (MG_NUM_RULES + 1)

typedef struct StatsEntry
{
	pg_atomic_uint32 dbid;		/* InvalidOid: free */
	pg_atomic_uint64 counters[STATS_ROWS][MG_NUM_STATS];
} StatsEntry;

static StatsEntry *stats = NULL;
static StatsEntry *my_entry = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
#if MG_HAS_SHMEM_REQUEST_HOOK
static shmem_request_hook_type prev_shmem_request_hook = NULL;
#endif

static Size
stats_size(void)
{
	return mul_size(STATS_DATABASES, sizeof(StatsEntry));
}

static void
stats_shmem_request(void)
{
#if MG_HAS_SHMEM_REQUEST_HOOK
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
#endif
	RequestAddinShmemSpace(stats_size());
}

static void
stats_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	stats = ShmemInitStruct("migguard stats", stats_size(), &found);
	if (!found)
	{
		for (int i = 0; i < STATS_DATABASES; i++)
		{
			pg_atomic_init_u32(&stats[i].dbid, InvalidOid);
			for (int r = 0; r < STATS_ROWS; r++)
				for (int s = 0; s < MG_NUM_STATS; s++)
					pg_atomic_init_u64(&stats[i].counters[r][s], 0);
		}
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Called from _PG_init, in shared_preload_libraries only. */
void
migguard_stats_init(void)
{
#if MG_HAS_SHMEM_REQUEST_HOOK
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = stats_shmem_request;
#else
	stats_shmem_request();
#endif
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = stats_shmem_startup;
}

/* This database's entry, claimed on first use; NULL when not preloaded. */
static StatsEntry *
entry(void)
{
	if (my_entry != NULL || stats == NULL || !OidIsValid(MyDatabaseId))
		return my_entry;
	for (int i = 0; i < STATS_DATABASES - 1; i++)
	{
		uint32		expected = InvalidOid;

		if (pg_atomic_read_u32(&stats[i].dbid) == MyDatabaseId ||
			pg_atomic_compare_exchange_u32(&stats[i].dbid, &expected, MyDatabaseId) ||
			expected == MyDatabaseId)
		{
			my_entry = &stats[i];
			return my_entry;
		}
	}
	my_entry = &stats[STATS_DATABASES - 1];
	return my_entry;
}

static void
add(int row, MigguardStat stat, uint64 n)
{
	StatsEntry *e = entry();

	if (e != NULL)
		pg_atomic_fetch_add_u64(&e->counters[row][stat], n);
}

void
migguard_stats_add(MigguardStat stat, uint64 n)
{
	add(0, stat, n);
}

static MigguardStat
verdict_stat(MigguardVerdict verdict)
{
	switch (verdict)
	{
		case MG_VERDICT_WARNED:
			return MG_STAT_WARNED;
		case MG_VERDICT_OVERRIDDEN:
			return MG_STAT_OVERRIDDEN;
		case MG_VERDICT_BLOCKED:
			return MG_STAT_BLOCKED;
		default:
			return MG_STAT_ALLOWED;
	}
}

void
migguard_stats_count_statement(MigguardVerdict verdict)
{
	add(0, MG_STAT_JUDGED, 1);
	add(0, verdict_stat(verdict), 1);
}

void
migguard_stats_count_findings(List *findings)
{
	ListCell   *lc;

	foreach(lc, findings)
	{
		MigguardFinding *f = (MigguardFinding *) lfirst(lc);
		MigguardStat s;

		switch (f->action)
		{
			case MG_ACTION_WARN:
				s = MG_STAT_WARNED;
				break;
			case MG_ACTION_OVERRIDE:
				s = MG_STAT_OVERRIDDEN;
				break;
			case MG_ACTION_BLOCK:
				s = MG_STAT_BLOCKED;
				break;
			default:
				s = MG_STAT_ALLOWED;
				break;
		}
		add(1 + f->rule, MG_STAT_JUDGED, 1);
		add(1 + f->rule, s, 1);
	}
}

void
migguard_stats_record_lock_hold(int64 ms)
{
	StatsEntry *e = entry();
	pg_atomic_uint64 *max;
	uint64		seen;

	if (e == NULL || ms <= 0)
		return;
	max = &e->counters[0][MG_STAT_LONGEST_HOLD_MS];
	seen = pg_atomic_read_u64(max);
	while (seen < (uint64) ms &&
		   !pg_atomic_compare_exchange_u64(max, &seen, (uint64) ms))
		;
}

PG_FUNCTION_INFO_V1(migguard_stats_rows);

/*
 * The counters as rows (database, rule, counters...), skipping rows that are
 * all zero.  Read without a lock: each counter is exact, a row may mix
 * counts from either side of a concurrent increment.
 */
Datum
migguard_stats_rows(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	mg_init_materialized_srf(fcinfo);
	if (stats == NULL)
		PG_RETURN_VOID();
	for (int i = 0; i < STATS_DATABASES; i++)
	{
		Oid			dbid = pg_atomic_read_u32(&stats[i].dbid);

		if (i < STATS_DATABASES - 1 && !OidIsValid(dbid))
			continue;
		for (int r = 0; r < STATS_ROWS; r++)
		{
			Datum		values[2 + MG_NUM_STATS];
			bool		nulls[2 + MG_NUM_STATS] = {0};
			bool		any = false;
			char	   *dbname = i < STATS_DATABASES - 1 ? get_database_name(dbid) : NULL;

			for (int s = 0; s < MG_NUM_STATS; s++)
			{
				uint64		v = pg_atomic_read_u64(&stats[i].counters[r][s]);

				values[2 + s] = Int64GetDatum((int64) v);
				any |= v != 0;
			}
			if (!any)
				continue;
			nulls[0] = dbname == NULL;
			values[0] = dbname ? CStringGetTextDatum(dbname) : (Datum) 0;
			nulls[1] = r == 0;
			values[1] = r == 0 ? (Datum) 0 :
				CStringGetTextDatum(migguard_rule_name((MigguardRuleId) (r - 1)));
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(migguard_stats_reset);

Datum
migguard_stats_reset(PG_FUNCTION_ARGS)
{
	if (stats != NULL)
		for (int i = 0; i < STATS_DATABASES; i++)
			for (int r = 0; r < STATS_ROWS; r++)
				for (int s = 0; s < MG_NUM_STATS; s++)
					pg_atomic_write_u64(&stats[i].counters[r][s], 0);
	PG_RETURN_VOID();
}
