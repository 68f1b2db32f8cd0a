/*-------------------------------------------------------------------------
 *
 * migguard.c
 *		The map of the extension: settings, the ProcessUtility hook, and the
 *		order in which every DDL statement is looked at.
 *
 * migguard must be loaded through shared_preload_libraries.  Every utility
 * statement reaches migguard_ProcessUtility.  Routine statements (BEGIN,
 * SET, SHOW, EXECUTE, ...) leave after one node-tag test: no allocation,
 * no catalog access, no lock.  The others run one level deeper
 * (nesting_level); DDL goes through the stages, each in its own .c/.h
 * pair, each calling only the ones below it:
 *
 *	migguard.c		the hooks: ProcessUtility (gate, then judge, act,
 *					audit, lock guard) and ExecutorEnd (dml_watch)
 *	gate			which statements migguard looks at
 *	event_triggers	ddl_command_end, sql_drop, table_rewrite: objects and
 *					rewrites for the audit entry; an unpredicted rewrite is
 *					judged (judge) and acted on (act)
 *	dml_watch		dml_under_lock: DML judged while a strong lock is held
 *	check			migguard.check(): judge a script, run nothing
 *	lockguard		runs the statement under bounded lock waits and retries
 *	judge			classify -> rules -> policy, one function
 *					(migguard_judge); the layering below it is written at
 *					the top of judge.c
 *	act				verdict -> ERROR or WARNINGs; a blocked attempt is
 *					queued for change_log
 *	blocked			the queue of rows and its worker; writes through audit
 *	audit			the entries of running statements and the one
 *					change_log writer; below it only catalog (the
 *					extension's tables, by OID), chain (the hash chain),
 *					json_out, and the names rules and policy give
 *	holds, stats	the strong locks this transaction holds; counters
 *
 * Nothing calls upwards: scripts/call-graph.py lists who calls whom and
 * fails on a circle (test t/070_no_call_cycles.pl).
 *
 * Locking rules the hook keeps (see relsize.c and classify.c for the
 * details):
 *	- it looks relations up without locking them, and only judges
 *	  relations the current user could alter; for everyone else the
 *	  statement goes straight to PostgreSQL, which raises its own
 *	  permission error exactly as without migguard;
 *	- the only locks it takes are the ones the statement itself is about
 *	  to take, in the same mode, and only conditionally (never waiting), so
 *	  it can neither queue behind a long transaction nor create a
 *	  lock-upgrade deadlock.
 *
 * Nothing is checked in parallel workers, during binary upgrade or
 * recovery, or while an extension script runs.
 *
 *-------------------------------------------------------------------------
 */
#include "migguard.h"
#include "act.h"
#include "approvals.h"
#include "audit.h"
#include "blocked.h"
#include "chain.h"
#include "classify.h"
#include "dml_watch.h"
#include "event_triggers.h"
#include "gate.h"
#include "holds.h"
#include "judge.h"
#include "lockguard.h"
#include "policy.h"
#include "rules.h"
#include "sqltext.h"
#include "stats.h"

#include <limits.h>

#include "access/parallel.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "commands/extension.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "tcop/utility.h"
#include "utils/guc.h"
#include "utils/memutils.h"

MG_MODULE_MAGIC;

void		_PG_init(void);

/* ----------------------------------------------------------------
 * Settings.  Names, types, defaults and privilege levels are the user
 * interface fixed by SPEC.md.  Each default is written once, here, and
 * used both as the variable's initial value and as the boot value given
 * to DefineCustom*Variable; string settings start NULL, as guc.c expects,
 * and boot to "".
 * ----------------------------------------------------------------
 */
#define MG_DEFAULT_MODE				MG_MODE_ENFORCE
#define MG_DEFAULT_LARGE_TABLE_SIZE_KB	(10 * 1024)
#define MG_DEFAULT_LOCK_TIMEOUT_MS	5000
#define MG_DEFAULT_LOCK_RETRIES		3
#define MG_DEFAULT_LOCK_RETRY_DELAY_MS	500
#define MG_DEFAULT_AUDIT			true
#define MG_DEFAULT_REQUIRE_REASON	false

/* What migguard does with findings: off, audit, warn or enforce. */
int			migguard_mode = MG_DEFAULT_MODE;

/* Tables at or above this size (kB, heap + TOAST) are large. */
int			migguard_large_table_size_kb = MG_DEFAULT_LARGE_TABLE_SIZE_KB;

/* Per-rule level overrides, "rule=level, ..." (parsed in policy.c). */
char	   *migguard_rules_setting = NULL;

/* Rules the session accepts, "rule, ..." (parsed in policy.c). */
char	   *migguard_allow_setting = NULL;

/* When set, only members of this role may use migguard.allow. */
char	   *migguard_override_role = NULL;

/* Lock-queue protection: timeout, retries, first back-off delay. */
int			migguard_lock_timeout_ms = MG_DEFAULT_LOCK_TIMEOUT_MS;
int			migguard_lock_retries = MG_DEFAULT_LOCK_RETRIES;
int			migguard_lock_retry_delay_ms = MG_DEFAULT_LOCK_RETRY_DELAY_MS;

/* Free label recorded with each audit row. */
char	   *migguard_tag = NULL;

/* Record schema changes in migguard.change_log. */
bool		migguard_audit_enabled = MG_DEFAULT_AUDIT;

/* Why the change is made, recorded with each audit row (change_log.reason). */
char	   *migguard_reason = NULL;

/* An override (migguard.allow) needs a migguard.reason. */
bool		migguard_require_reason = MG_DEFAULT_REQUIRE_REASON;

static const struct config_enum_entry mode_options[] = {
	{"off", MG_MODE_OFF, false},
	{"audit", MG_MODE_AUDIT, false},
	{"warn", MG_MODE_WARN, false},
	{"enforce", MG_MODE_ENFORCE, false},
	{NULL, 0, false}
};

static ProcessUtility_hook_type prev_ProcessUtility = NULL;
static ExecutorEnd_hook_type prev_ExecutorEnd = NULL;

/*
 * How many statements enclose the one running now: 0 at top level, 1 in
 * the body of a DO block or a procedure, 2 in a procedure that one calls,
 * and so on.  Kept as pg_stat_statements keeps its nesting_level
 * (pgss_ProcessUtility): set around the call of the next hook, and put
 * back in PG_FINALLY, so an error caught by an outer exception block
 * leaves it right.  The fast path of routine statements does not count
 * (they run no utility statement themselves).  Functions called by a query are not
 * seen by this hook: a query run from the top level counts as one level
 * (statement_depth); a call made by a query or an expression inside a
 * function or DO block counts nothing.  Counting those too would take
 * executor hooks on every query, and PL/pgSQL evaluates simple expressions
 * (PERFORM f()) without the executor anyway.
 */
static int	nesting_level = 0;

static void migguard_ProcessUtility(MG_PROCESS_UTILITY_PARAMS);
static void migguard_ExecutorEnd(QueryDesc *queryDesc);
static bool migguard_may_check(ProcessUtilityContext context);
static void guard_statement(MG_PROCESS_UTILITY_PARAMS);
static void run_nested(MG_PROCESS_UTILITY_PARAMS);
static void define_settings(void);

void
_PG_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
	{
		/*
		 * Loaded by LOAD or on first use of a function: the hook would only
		 * see this session, which is worse than nothing because it looks
		 * like protection.
		 */
		ereport(WARNING,
				(errmsg("migguard is not active: it must be loaded through shared_preload_libraries"),
				 errhint("Add migguard to shared_preload_libraries in postgresql.conf and restart the server.")));
		return;
	}

	define_settings();
	migguard_blocked_init();
	migguard_holds_init();
	migguard_chain_init();
	migguard_stats_init();

	/*
	 * Only after every migguard.* setting exists: reserving the prefix
	 * discards the placeholders postgresql.conf created for the others.
	 */
	MarkGUCPrefixReserved("migguard");

	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = migguard_ProcessUtility;
	prev_ExecutorEnd = ExecutorEnd_hook;
	ExecutorEnd_hook = migguard_ExecutorEnd;
}

static void
define_settings(void)
{
	DefineCustomEnumVariable("migguard.mode",
							 "What migguard does with unsafe DDL.",
							 "enforce blocks error findings and warns on the others; "
							 "warn only warns; audit only records; off does nothing.",
							 &migguard_mode,
							 MG_DEFAULT_MODE,
							 mode_options,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("migguard.large_table_size",
							"Tables at or above this size are large.",
							"Size is heap plus TOAST, summed over partitions. "
							"Lock and rewrite rules fire only on large tables.",
							&migguard_large_table_size_kb,
							MG_DEFAULT_LARGE_TABLE_SIZE_KB,
							0, INT_MAX,
							PGC_SUSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	DefineCustomStringVariable("migguard.rules",
							   "Per-rule levels, as rule=level pairs (error, warning or off).",
							   NULL,
							   &migguard_rules_setting,
							   "",
							   PGC_SUSET,
							   GUC_LIST_INPUT,
							   check_migguard_rules, assign_migguard_rules, NULL);

	DefineCustomStringVariable("migguard.allow",
							   "Rules whose findings this session accepts.",
							   "Use SET LOCAL to accept them for one transaction.",
							   &migguard_allow_setting,
							   "",
							   PGC_USERSET,
							   GUC_LIST_INPUT,
							   check_migguard_allow, assign_migguard_allow, NULL);

	DefineCustomStringVariable("migguard.override_role",
							   "If set, only members of this role may use migguard.allow.",
							   NULL,
							   &migguard_override_role,
							   "",
							   PGC_SUSET,
							   0,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("migguard.lock_timeout",
							"Lock timeout applied to DDL that blocks reads or writes of an existing table.",
							"Used when the session's own lock_timeout is 0 or larger. 0 disables.",
							&migguard_lock_timeout_ms,
							MG_DEFAULT_LOCK_TIMEOUT_MS,
							0, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("migguard.lock_retries",
							"How many more times a statement that hit the lock timeout is retried.",
							NULL,
							&migguard_lock_retries,
							MG_DEFAULT_LOCK_RETRIES,
							0, 100,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("migguard.lock_retry_delay",
							"First back-off delay between lock retries.",
							"Later delays double, with jitter.",
							&migguard_lock_retry_delay_ms,
							MG_DEFAULT_LOCK_RETRY_DELAY_MS,
							0, 3600 * 1000,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomStringVariable("migguard.tag",
							   "Free label recorded with each audit row, such as a migration id.",
							   NULL,
							   &migguard_tag,
							   "",
							   PGC_USERSET,
							   0,
							   NULL, NULL, NULL);

	DefineCustomBoolVariable("migguard.audit",
							 "Record schema changes in migguard.change_log.",
							 NULL,
							 &migguard_audit_enabled,
							 MG_DEFAULT_AUDIT,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomStringVariable("migguard.reason",
							   "Why the change is made (a ticket, a sentence), recorded with each audit row.",
							   NULL,
							   &migguard_reason,
							   "",
							   PGC_USERSET,
							   0,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("migguard.approver_role",
							   "Members of this role may approve findings ahead (migguard.approve), besides superusers.",
							   NULL,
							   &migguard_approver_role,
							   "",
							   PGC_SUSET,
							   0,
							   NULL, NULL, NULL);

	DefineCustomBoolVariable("migguard.require_reason",
							 "Refuse an override through migguard.allow when migguard.reason is empty.",
							 NULL,
							 &migguard_require_reason,
							 MG_DEFAULT_REQUIRE_REASON,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);
}

/*
 * CREATE EXTENSION migguard is not recorded: the log starts once it exists.
 * Writing the first row in the transaction that creates change_log would
 * also draw the identity's first value in the transaction that creates its
 * sequence, which wal_level = minimal does not WAL-log, so a crash could
 * hand out committed ids again.
 */
static bool
creates_migguard(Node *parsetree)
{
	return IsA(parsetree, CreateExtensionStmt) &&
		strcmp(((CreateExtensionStmt *) parsetree)->extname, "migguard") == 0;
}

/*
 * Whether this backend, in this state, judges DDL at all.
 */
static bool
migguard_may_check(ProcessUtilityContext context)
{
	if (IsParallelWorker() || IsBinaryUpgrade || RecoveryInProgress())
		return false;

	/* Extension scripts (ours and everyone else's) are trusted. */
	if (creating_extension)
		return false;

	/* No catalog access outside a healthy transaction. */
	if (!IsTransactionState() || IsAbortedTransactionBlockState())
		return false;

	return true;
}

/* The next hook in the chain, or PostgreSQL itself. */
static void
run_next(MG_PROCESS_UTILITY_PARAMS)
{
	if (prev_ProcessUtility)
		prev_ProcessUtility(MG_PROCESS_UTILITY_ARGS);
	else
		standard_ProcessUtility(MG_PROCESS_UTILITY_ARGS);
}

/*
 * The depth of the statement now entering the hook (change_log.nesting).
 * A statement run by a function of a query at top level (SELECT f()) is one
 * level in, though no utility statement encloses it.
 */
static int
statement_depth(ProcessUtilityContext context)
{
	if (nesting_level == 0 && context != PROCESS_UTILITY_TOPLEVEL)
		return 1;
	return nesting_level;
}

/* The statements migguard sees this one run are one level deeper. */
static void
run_nested(MG_PROCESS_UTILITY_PARAMS)
{
	int			saved = nesting_level;

	nesting_level = statement_depth(context) + 1;
	PG_TRY();
	{
		run_next(MG_PROCESS_UTILITY_ARGS);
	}
	PG_FINALLY();
	{
		nesting_level = saved;
	}
	PG_END_TRY();
}

/*
 * The executor's end of every query: while this transaction holds a lock
 * that blocks reads or writes of a large table (holds.c sets the flag),
 * DML is judged by dml_under_lock (dml_watch.c); otherwise one test.
 */
static void
migguard_ExecutorEnd(QueryDesc *queryDesc)
{
	if (unlikely(migguard_dml_watch))
		migguard_judge_dml(queryDesc, nesting_level);
	if (prev_ExecutorEnd)
		prev_ExecutorEnd(queryDesc);
	else
		standard_ExecutorEnd(queryDesc);
}

/*
 * The hook.  Every utility statement of every session comes through here,
 * so the test stays small: one integer compare and node-tag switches, no
 * allocation, no catalog access.  Routine statements run no statement
 * inside and leave at once; the others that migguard does not judge (DO,
 * CALL, COPY, ...) only count one level deeper for what they run; the
 * statements worth a look go on to a separate function whose set-up the
 * others never pay for.
 */
static void
migguard_ProcessUtility(MG_PROCESS_UTILITY_PARAMS)
{
	Node	   *parsetree = pstmt->utilityStmt;

	if (migguard_mode == MG_MODE_OFF ||
		migguard_is_routine_statement(parsetree))
		run_next(MG_PROCESS_UTILITY_ARGS);
	else if (!(migguard_is_checked_statement(parsetree) || migguard_is_ddl(parsetree)) ||
			 !migguard_may_check(context))
		run_nested(MG_PROCESS_UTILITY_ARGS);
	else
		guard_statement(MG_PROCESS_UTILITY_ARGS);
}

/*
 * A statement migguard judges: classify, rules, policy and act decide
 * (act raises when it is blocked); then it runs one level deeper, under
 * the lock guard, with an audit entry open when it is DDL the user ran.
 */
static pg_noinline void
guard_statement(MG_PROCESS_UTILITY_PARAMS)
{
	Node	   *parsetree = pstmt->utilityStmt;
	CreateTableAsStmt *explained = migguard_explained_ctas(parsetree);
	CommandId	since = GetCurrentCommandId(false);
	MemoryContext analysis;
	MemoryContext oldcontext;
	MigguardAnalysis cx = {0};
	MigguardStatement *stmt;
	List	   *findings;
	MigguardVerdict verdict;
	MigguardLockGuard *guard;
	int			nesting;
	bool		audited;

	/* 0 at top level; more inside functions, procedures and DO blocks. */
	nesting = statement_depth(context);

	/*
	 * EXPLAIN ANALYZE CREATE TABLE AS runs the CREATE TABLE AS, which never
	 * reaches ProcessUtility (migguard_explained_ctas): it is judged, guarded
	 * and recorded as that statement, under its command tag, with the text
	 * the user wrote.
	 */
	if (explained != NULL)
		parsetree = (Node *) explained;

	/*
	 * Everything the analysis allocates dies with this context, so DDL in a
	 * PL/pgSQL loop does not grow the caller's memory.  On ERROR the parent
	 * context's reset frees it.
	 */
	analysis = AllocSetContextCreate(CurrentMemoryContext, "migguard analysis",
									 ALLOCSET_DEFAULT_SIZES);
	oldcontext = MemoryContextSwitchTo(analysis);

	verdict = migguard_judge(&cx, parsetree,
							 migguard_statement_text(queryString,
													 pstmt->stmt_location,
													 pstmt->stmt_len),
							 &stmt, &findings);
	migguard_stats_count_statement(verdict);
	migguard_stats_count_findings(findings);
	migguard_act(stmt, findings, verdict, nesting);
	/* What the execution needs outlives the analysis. */
	guard = migguard_lock_guard(stmt, parsetree,
								context == PROCESS_UTILITY_TOPLEVEL, oldcontext);

	/*
	 * One audit row per DDL statement the user ran; the statements
	 * PostgreSQL runs on its own behalf (SUBCOMMAND) are part of it.
	 */
	audited = context != PROCESS_UTILITY_SUBCOMMAND &&
		migguard_is_ddl(parsetree) && !creates_migguard(parsetree);
	if (audited)
		migguard_audit_begin(parsetree, stmt, findings, verdict, nesting);

	MemoryContextSwitchTo(oldcontext);
	MemoryContextDelete(analysis);

	memset(&migguard_last_lock_stats, 0, sizeof(migguard_last_lock_stats));
	if (!audited)
	{
		/* Lock timeout, retries and the record of strong locks: lockguard.c */
		if (guard != NULL)
			migguard_run_guarded(guard, run_nested, MG_PROCESS_UTILITY_ARGS);
		else
			run_nested(MG_PROCESS_UTILITY_ARGS);
		return;
	}

	PG_TRY();
	{
		if (guard != NULL)
			migguard_run_guarded(guard, run_nested, MG_PROCESS_UTILITY_ARGS);
		else
			run_nested(MG_PROCESS_UTILITY_ARGS);
	}
	PG_CATCH();
	{
		migguard_audit_abort();
		PG_RE_THROW();
	}
	PG_END_TRY();

	if (explained != NULL)
		migguard_event_add_created(explained, since);
	migguard_audit_end();
}
