/*-------------------------------------------------------------------------
 *
 * migguard.h
 *		The types shared by migguard's modules, as they flow through its one
 *		pipeline (judge.c, then the hook's act and record):
 *
 *		statement -> classify (facts) -> rules (findings)
 *				  -> policy (verdict) -> act (error / warning / run)
 *
 * Facts: a MigguardStatement lists MigguardOps (what the statement does to
 * which MigguardRelation), found in a MigguardAnalysis (dry run or not).
 * Findings: a MigguardFinding per rule that fires on an op.  Verdicts and
 * actions: policy.c's.  Each module declares its own functions in a header
 * of its own (classify.h, rules.h, policy.h, judge.h, relsize.h,
 * lockfacts.h, sqltext.h, act.h, audit.h, ...); this one keeps only the
 * shared types and the settings.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGGUARD_H
#define MIGGUARD_H

#include "compat.h"

#include "lib/stringinfo.h"
#include "nodes/parsenodes.h"
#include "nodes/pg_list.h"
#include "access/transam.h"
#include "catalog/pg_class.h"
#include "storage/lockdefs.h"
#include "utils/timestamp.h"
#include "utils/guc.h"

/* SQLSTATE of a statement migguard blocks (implementation-defined class MG). */
#define ERRCODE_MIGGUARD_BLOCKED MAKE_SQLSTATE('M','G','0','0','1')

/* ----------------------------------------------------------------
 * Settings (registered in migguard.c, parsed in policy.c)
 * ----------------------------------------------------------------
 */
typedef enum MigguardMode
{
	MG_MODE_OFF,
	MG_MODE_AUDIT,
	MG_MODE_WARN,
	MG_MODE_ENFORCE
} MigguardMode;

extern int	migguard_mode;
extern int	migguard_large_table_size_kb;
extern char *migguard_rules_setting;
extern char *migguard_allow_setting;
extern char *migguard_override_role;
extern int	migguard_lock_timeout_ms;
extern int	migguard_lock_retries;
extern int	migguard_lock_retry_delay_ms;
extern char *migguard_tag;
extern char *migguard_reason;
extern bool migguard_require_reason;
extern bool migguard_audit_enabled;

/* How many statements enclose the running one (migguard.c). */

/* ----------------------------------------------------------------
 * Rule catalog identifiers (names and texts live only in rules.c)
 * ----------------------------------------------------------------
 */
typedef enum MigguardRuleId
{
	MG_RULE_CREATE_INDEX,
	MG_RULE_DROP_INDEX,
	MG_RULE_REINDEX,
	MG_RULE_ADD_COLUMN_REWRITE,
	MG_RULE_ALTER_COLUMN_TYPE,
	MG_RULE_TABLE_REWRITE,
	MG_RULE_SET_NOT_NULL,
	MG_RULE_ADD_CONSTRAINT_SCAN,
	MG_RULE_ADD_UNIQUE_CONSTRAINT,
	MG_RULE_VACUUM_FULL,
	MG_RULE_REFRESH_MATVIEW,
	MG_RULE_SET_TABLESPACE,
	MG_RULE_ATTACH_PARTITION_SCAN,
	MG_RULE_DETACH_PARTITION,
	MG_RULE_DROP_TABLE,
	MG_RULE_TRUNCATE,
	MG_RULE_DROP_COLUMN,
	MG_RULE_RENAME_COLUMN,
	MG_RULE_RENAME_TABLE,
	MG_RULE_ADD_COLUMN_NOT_NULL,
	MG_RULE_LOCK_TIMEOUT,
	MG_RULE_STRONG_LOCK_HELD,
	MG_RULE_INVALID_INDEX,
	/* migration-level hazards (issue 15) */
	MG_RULE_NOT_NULL_WITHOUT_DEFAULT,
	MG_RULE_DML_UNDER_LOCK,
	MG_RULE_FK_WITHOUT_INDEX,
	MG_RULE_RENAME_ENUM_VALUE,
	MG_NUM_RULES
} MigguardRuleId;

typedef enum MigguardLevel
{
	MG_LEVEL_OFF,
	MG_LEVEL_WARNING,
	MG_LEVEL_ERROR
} MigguardLevel;

/* ----------------------------------------------------------------
 * Facts (classify.c, relsize.c)
 * ----------------------------------------------------------------
 */

/* Whether a relation holds at least one live row (destructive rules). */
typedef enum MigguardEmptiness
{
	MG_EMPTINESS_UNKNOWN,
	MG_EMPTINESS_EMPTY,
	MG_EMPTINESS_NONEMPTY
} MigguardEmptiness;

/* A relation a statement touches, as the rules see it. */
typedef struct MigguardRelation
{
	Oid			relid;
	char		relkind;
	char		relpersistence;
	char	   *schema;
	char	   *name;
	bool		is_new;			/* created in the current transaction */
	int64		size;			/* bytes: heap + TOAST, over all partitions;
								 * -1 until migguard_relation_bytes() */
	MigguardEmptiness emptiness;	/* filled only for destructive ops */
} MigguardRelation;

/* What a statement does, one entry per effect on one relation. */
typedef enum MigguardOpKind
{
	MG_OP_CREATE_INDEX,
	MG_OP_DROP_INDEX,
	MG_OP_REINDEX,
	MG_OP_ADD_COLUMN,
	MG_OP_ALTER_COLUMN_TYPE,
	MG_OP_SET_NOT_NULL,
	MG_OP_ADD_CONSTRAINT,
	MG_OP_REWRITE_MAINTENANCE,	/* VACUUM FULL, CLUSTER */
	MG_OP_REFRESH_MATVIEW,
	MG_OP_SET_TABLESPACE,
	MG_OP_ATTACH_PARTITION,
	MG_OP_DETACH_PARTITION,
	MG_OP_DROP_TABLE,
	MG_OP_TRUNCATE,
	MG_OP_DROP_COLUMN,
	MG_OP_RENAME_COLUMN,
	MG_OP_RENAME_RELATION,
	MG_OP_TABLE_REWRITE,		/* any other rewrite: SET LOGGED, table_rewrite event */
	MG_OP_OTHER_LOCK,			/* any other table lock (lock-queue rules) */
	/* migration-level hazards (issue 15): hazards.c, holds.c */
	MG_OP_NOT_NULL_NO_DEFAULT,	/* a NOT NULL column is left without default */
	MG_OP_DML_UNDER_LOCK,		/* DML while rel is held in lockmode */
	MG_OP_RENAME_ENUM_VALUE		/* rel has a column of the renamed enum */
} MigguardOpKind;

/* Facts carried in MigguardOp.flags; which ones apply depends on kind. */
#define MG_F_CONCURRENTLY			0x0001	/* CONCURRENTLY form */
#define MG_F_NO_BUILD				0x0002	/* CREATE INDEX ON ONLY a parent */
#define MG_F_INVALID_INDEX_EXISTS	0x0004	/* IF NOT EXISTS names an INVALID index */
#define MG_F_VOLATILE_DEFAULT		0x0008	/* ADD COLUMN rewrite reasons ... */
#define MG_F_IDENTITY				0x0010
#define MG_F_SERIAL					0x0020
#define MG_F_STORED_GENERATED		0x0040
#define MG_F_DOMAIN_CONSTRAINTS		0x0080
#define MG_F_NOT_NULL				0x0100	/* column is (or is declared) NOT NULL */
#define MG_F_HAS_DEFAULT			0x0200	/* column has (or is given) a default */
#define MG_F_REWRITES				0x0400	/* ALTER COLUMN TYPE rewrites the table */
#define MG_F_REBUILDS_INDEXES		0x0800	/* ... or rebuilds indexes */
#define MG_F_PROVEN					0x1000	/* SET NOT NULL proven by a CHECK */
#define MG_F_NOT_VALID				0x2000	/* constraint added NOT VALID */
#define MG_F_USING_INDEX			0x4000	/* constraint added USING INDEX */
#define MG_F_NO_OP					0x8000	/* PostgreSQL will do nothing */
#define MG_F_SCANS					0x10000 /* ATTACH: the partition is scanned */
#define MG_F_DEFAULT_PARTITION		0x20000 /* ATTACH: rel is the default partition */
#define MG_F_IMPLIED				0x40000 /* SET NOT NULL implied by PRIMARY KEY */
#define MG_F_CLUSTER				0x80000 /* REWRITE_MAINTENANCE is CLUSTER */
#define MG_F_SCHEMA					0x100000	/* RENAME_RELATION renames a schema */
#define MG_F_SET_SCHEMA				0x200000	/* RENAME_RELATION is SET SCHEMA */
#define MG_F_HAS_DEFAULT_PARTITION	0x400000	/* DETACH: the parent has one */
#define MG_F_HELD_EARLIER			0x800000	/* OTHER_LOCK: ACCESS EXCLUSIVE held
													 * since an earlier statement */
#define MG_F_NO_TRANSACTION_BLOCK	0x1000000	/* cannot run in a transaction block */
#define MG_F_NEVER_QUEUES			0x2000000	/* OTHER_LOCK: taken NOWAIT, or on an
													 * index no query opens any more
													 * (stmtkind.c) */
#define MG_F_ENFORCE				0x4000000	/* ADD_CONSTRAINT is 18's ALTER
												 * CONSTRAINT ... ENFORCED */
#define MG_F_WITHOUT_OVERLAPS		0x8000000	/* ADD_CONSTRAINT: 18's temporal
												 * key (a GiST index) */
#define MG_F_SET_EXPRESSION			0x10000000	/* ADD_CONSTRAINT: SET EXPRESSION
												 * of a virtual column checks
												 * its constraints */
#define MG_F_DROPS_DEFAULT			0x20000000	/* NOT_NULL_NO_DEFAULT: the
												 * statement drops the default */
#define MG_F_FK_UNINDEXED			0x40000000	/* ADD FOREIGN KEY: no index starts
												 * with the referencing columns */

/* The kind of constraint an ADD_CONSTRAINT op adds (or enforces). */
typedef enum MigguardConstraintKind
{
	MG_CON_NONE,
	MG_CON_CHECK,
	MG_CON_FOREIGN_KEY,
	MG_CON_UNIQUE,
	MG_CON_PRIMARY_KEY,
	MG_CON_EXCLUSION,
	MG_CON_NOT_NULL				/* SET EXPRESSION: the column's NOT NULL */
} MigguardConstraintKind;

/*
 * One effect of a statement on one relation.  Which of the named facts
 * below an op carries depends on its kind; the others are NULL (or 0).
 */
typedef struct MigguardOp
{
	MigguardOpKind kind;
	LOCKMODE	lockmode;		/* lock taken on rel */
	MigguardRelation *rel;		/* relation judged by size / newness */
	MigguardRelation *index;	/* DROP INDEX, REINDEX INDEX, SET TABLESPACE
								 * of an index, the INVALID index CREATE
								 * INDEX IF NOT EXISTS skips */
	MigguardRelation *parent;	/* ATTACH_PARTITION: the partitioned table */
	MigguardRelation *referenced;	/* ADD FOREIGN KEY: the referenced table */
	MigguardConstraintKind constraint_kind; /* ADD_CONSTRAINT */
	char	   *constraint_name;	/* ADD_CONSTRAINT (NULL: unnamed);
									 * SET_NOT_NULL: the NOT VALID NOT NULL
									 * constraint it validates (18) */
	char	   *index_name;		/* CREATE_INDEX: the name given, or NULL */
	char	   *column;			/* the column added, altered, dropped or
								 * renamed */
	char	   *column_type;	/* SQL type of that column, if known; the
								 * enum of RENAME_ENUM_VALUE */
	char	   *columns;		/* key columns of a constraint, "a, b" */
	char	   *new_name;		/* RENAME_*: the new name; SET SCHEMA: the
								 * new schema; RENAME_ENUM_VALUE: the new
								 * label */
	char	   *old_label;		/* RENAME_ENUM_VALUE: the renamed label */
	char	   *new_type;		/* ALTER_COLUMN_TYPE: the new type */
	char	   *default_expr;	/* ADD_COLUMN: the default's text, if any */
	char	   *tablespace;		/* SET_TABLESPACE: the target tablespace */
	const char *command;		/* TABLE_REWRITE, DML_UNDER_LOCK,
								 * NOT_NULL_NO_DEFAULT, REWRITE_MAINTENANCE
								 * of CLUSTER or 19's REPACK: the command or
								 * subcommand, as the message names it */
	char	   *rewrite_reason; /* TABLE_REWRITE: why (the event's reason) */
	uint64		rows;			/* DML_UNDER_LOCK: rows the command touched */
	uint32		flags;			/* MG_F_* facts */
} MigguardOp;

/*
 * What one analysis knows beyond its statement.  The hook starts each
 * statement with a zeroed one; migguard.check() runs the whole script as a
 * dry run (nothing executes, so probes take ACCESS SHARE only and what the
 * caller may not see is not named) and lists the relations the script
 * created so far (they count as new) and, in script, the columns,
 * indexes and locks of its earlier statements.  The probes of lockfacts.c
 * are remembered here, for the statement being analysed.
 */
typedef struct MigguardAnalysis
{
	bool		dry_run;		/* migguard.check() */
	List	   *script_relations;	/* RangeVar *, created earlier in the
									 * script */
	struct MigguardScript *script;	/* what the script did so far
									 * (hazards.c), or NULL */
	List	   *probed_relids;	/* relations the analysis locked itself */
} MigguardAnalysis;

typedef struct MigguardStatement
{
	MigguardAnalysis *analysis; /* the analysis that found these facts;
								 * valid while the statement is judged */
	const char *text;			/* this statement alone */
	const char *command_tag;
	List	   *ops;			/* MigguardOp * */
	bool		refused;		/* PostgreSQL will refuse it for lack of a
								 * privilege: no ops, nothing named */
} MigguardStatement;

/* ----------------------------------------------------------------
 * Findings and verdicts (rules.c, policy.c)
 * ----------------------------------------------------------------
 */
typedef enum MigguardAction
{
	MG_ACTION_SILENT,			/* audit mode: recorded only */
	MG_ACTION_WARN,
	MG_ACTION_OVERRIDE,			/* accepted through migguard.allow */
	MG_ACTION_BLOCK
} MigguardAction;

typedef enum MigguardVerdict
{
	MG_VERDICT_ALLOWED,
	MG_VERDICT_WARNED,
	MG_VERDICT_OVERRIDDEN,
	MG_VERDICT_BLOCKED
} MigguardVerdict;

typedef struct MigguardFinding
{
	MigguardRuleId rule;
	MigguardLevel level;		/* after migguard.rules */
	const MigguardOp *op;
	char	   *message;
	char	   *reason;			/* lock mode and what it blocks, or why */
	char	   *hint;			/* the safe sequence */
	MigguardAction action;		/* set by policy */
	bool		override_denied;	/* allowed, but not a member of override_role */
	bool		override_needs_reason;	/* allowed, but require_reason and no reason */
	int64		approval_id;	/* accepted by this approval (approvals.c), or 0 */
	int64		expired_approval_id;	/* an approval that matched but expired */
	TimestampTz expired_at;
} MigguardFinding;

/*
 * Exempt from every rule: nobody else can see a relation created in this
 * transaction, or a temp one (and an op may name no relation).  The one
 * test of it, for rules.c, the lock facts and the script's lock record.
 */
static inline bool
migguard_relation_is_exempt(const MigguardRelation *rel)
{
	return rel == NULL || rel->is_new || rel->relpersistence == RELPERSISTENCE_TEMP;
}

#endif							/* MIGGUARD_H */
