/*-------------------------------------------------------------------------
 *
 * rules.c
 *		Facts -> findings.  The rule catalog is the one array below: name,
 *		category, default level, description, and the functions that decide
 *		whether the rule fires on an op and what it says.  migguard.rules(),
 *		the validation of migguard.rules and migguard.allow, and the README's
 *		rule table all derive from it; nothing else spells a rule name.
 *
 * Every finding has three texts: the message (what the statement would
 * do, naming the relation and its size), the reason (the rule, the lock
 * mode and what that lock blocks) and the hint (the safe sequence, with
 * the user's real identifiers).  act.c adds the override sentence.
 *
 *-------------------------------------------------------------------------
 */
#include "migguard.h"
#include "lockfacts.h"
#include "relsize.h"
#include "rules.h"
#include "sqltext.h"

#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

typedef struct RuleDef
{
	const char *name;
	const char *category;
	MigguardLevel default_level;
	bool		size_gated;
	MigguardOpKind op;
	const char *description;
	/* whether the rule fires on an op that passed exemption and size gate */
	bool		(*fires) (const MigguardStatement *stmt, const MigguardOp *op);
	/* the level before migguard.rules, when it depends on the op */
	MigguardLevel (*default_for) (const MigguardOp *op);
	/* message, reason and hint */
	void		(*describe) (const MigguardStatement *stmt, const MigguardOp *op,
							 MigguardFinding *finding);
} RuleDef;

/* ----------------------------------------------------------------
 * Text helpers
 * ----------------------------------------------------------------
 */

/* '"public.accounts" (1.2 GB)' */
static char *
rel_with_size(const MigguardRelation *rel)
{
	/* A relation check() may not name is not measured either (relsize.c). */
	if (!OidIsValid(rel->relid))
		return migguard_display_name(rel);
	return psprintf("%s (%s)", migguard_display_name(rel),
					migguard_pretty_size(migguard_relation_bytes(rel)));
}

/* 'CREATE INDEX takes a SHARE lock on "public.accounts", which blocks ...' */
static char *
lock_sentence(const char *what, LOCKMODE mode, const MigguardRelation *rel,
			  const char *how_long)
{
	const char *name = migguard_lock_mode_sql(mode);

	return psprintf("%s takes %s %s lock on %s, which %s%s%s.",
					what, (name[0] == 'A' || name[0] == 'E') ? "an" : "a", name,
					migguard_display_name(rel), migguard_lock_blocks(mode),
					how_long ? " " : "", how_long ? how_long : "");
}

/* The column's SQL type for a hint, or a placeholder when unknown. */
static const char *
type_or_placeholder(const MigguardOp *op)
{
	return op->column_type ? op->column_type : "<type>";
}

/* The constraint kind as ADD names it: "ADD FOREIGN KEY", "ADD EXCLUDE". */
static const char *
constraint_kind_sql(MigguardConstraintKind kind)
{
	switch (kind)
	{
		case MG_CON_CHECK:
			return "CHECK";
		case MG_CON_FOREIGN_KEY:
			return "FOREIGN KEY";
		case MG_CON_UNIQUE:
			return "UNIQUE";
		case MG_CON_PRIMARY_KEY:
			return "PRIMARY KEY";
		case MG_CON_EXCLUSION:
			return "EXCLUDE";
		case MG_CON_NOT_NULL:
			return "NOT NULL";
		case MG_CON_NONE:
			break;
	}
	return "CONSTRAINT";
}

/* "a SHARE" / "an ACCESS EXCLUSIVE" */
static char *
lock_with_article(LOCKMODE mode)
{
	const char *name = migguard_lock_mode_sql(mode);

	return psprintf("%s %s", (name[0] == 'A' || name[0] == 'E') ? "an" : "a", name);
}

/*
 * A function body in a hint, dollar-quoted with a tag the body (which holds
 * the user's quoted identifiers) does not contain.
 */
static char *
dollar_quoted(const char *body)
{
	char	   *tag = pstrdup("$mg$");

	for (int i = 1; strstr(body, tag) != NULL; i++)
		tag = psprintf("$mg%d$", i);
	return psprintf("%s %s %s", tag, body, tag);
}

/* Identifiers in hints: see migguard_quote_ident (sqltext.c). */
static const char *
q(const char *ident)
{
	return migguard_quote_ident(ident);
}

/* A word for a shell command line in a hint: single-quoted when needed. */
static char *
shell_word(const char *word)
{
	StringInfoData buf;

	if (strspn(word, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") ==
		strlen(word) && word[0] != '\0')
		return pstrdup(word);
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '\'');
	for (const char *c = word; *c; c++)
	{
		if (*c == '\'')
			appendStringInfoString(&buf, "'\\''");
		else
			appendStringInfoChar(&buf, *c);
	}
	appendStringInfoChar(&buf, '\'');
	return buf.data;
}

/* ----------------------------------------------------------------
 * Predicates
 * ----------------------------------------------------------------
 */

static bool
not_concurrent(const MigguardStatement *stmt, const MigguardOp *op)
{
	return (op->flags & MG_F_CONCURRENTLY) == 0;
}

static bool
builds_index_blocking(const MigguardStatement *stmt, const MigguardOp *op)
{
	return (op->flags & (MG_F_CONCURRENTLY | MG_F_NO_BUILD)) == 0;
}

static bool
add_column_rewrites(const MigguardStatement *stmt, const MigguardOp *op)
{
	return (op->flags & (MG_F_VOLATILE_DEFAULT | MG_F_IDENTITY | MG_F_SERIAL |
						 MG_F_STORED_GENERATED | MG_F_DOMAIN_CONSTRAINTS)) != 0;
}

/*
 * Only on an empty table: one that holds rows makes PostgreSQL fail the
 * statement itself ("column ... contains null values"), and its error is
 * the one to see.
 */
static bool
add_column_not_null_without_default(const MigguardStatement *stmt, const MigguardOp *op)
{
	return (op->flags & MG_F_NOT_NULL) && !(op->flags & MG_F_HAS_DEFAULT) &&
		migguard_probe_emptiness(stmt->analysis, op->rel, op->lockmode) == MG_EMPTINESS_EMPTY;
}

static bool
type_change_rewrites(const MigguardStatement *stmt, const MigguardOp *op)
{
	return (op->flags & (MG_F_REWRITES | MG_F_REBUILDS_INDEXES)) != 0;
}

static bool
set_not_null_scans(const MigguardStatement *stmt, const MigguardOp *op)
{
	return (op->flags & (MG_F_NO_OP | MG_F_PROVEN)) == 0;
}

static bool
constraint_scans(const MigguardStatement *stmt, const MigguardOp *op)
{
	if (op->flags & MG_F_SET_EXPRESSION)
		return true;
	return (op->constraint_kind == MG_CON_CHECK ||
			op->constraint_kind == MG_CON_FOREIGN_KEY) &&
		!(op->flags & MG_F_NOT_VALID);
}

static bool
constraint_builds_index(const MigguardStatement *stmt, const MigguardOp *op)
{
	return (op->constraint_kind == MG_CON_UNIQUE ||
			op->constraint_kind == MG_CON_PRIMARY_KEY ||
			op->constraint_kind == MG_CON_EXCLUSION) &&
		!(op->flags & MG_F_USING_INDEX);
}

static bool
always(const MigguardStatement *stmt, const MigguardOp *op)
{
	return true;
}

static bool
not_a_no_op(const MigguardStatement *stmt, const MigguardOp *op)
{
	return (op->flags & MG_F_NO_OP) == 0;
}

static bool
refresh_blocks_reads(const MigguardStatement *stmt, const MigguardOp *op)
{
	return (op->flags & (MG_F_CONCURRENTLY | MG_F_NO_OP)) == 0;
}

static bool
partition_is_scanned(const MigguardStatement *stmt, const MigguardOp *op)
{
	return (op->flags & MG_F_SCANS) != 0;
}

/* Only where CONCURRENTLY is possible: PostgreSQL 14+, no default partition. */
static bool
detach_could_be_concurrent(const MigguardStatement *stmt, const MigguardOp *op)
{
	return MG_HAS_DETACH_CONCURRENTLY &&
		(op->flags & (MG_F_CONCURRENTLY | MG_F_HAS_DEFAULT_PARTITION)) == 0;
}

static bool
holds_rows(const MigguardStatement *stmt, const MigguardOp *op)
{
	return migguard_probe_emptiness(stmt->analysis, op->rel, op->lockmode) == MG_EMPTINESS_NONEMPTY;
}

static bool
index_exists_invalid(const MigguardStatement *stmt, const MigguardOp *op)
{
	return (op->flags & MG_F_INVALID_INDEX_EXISTS) != 0;
}

/* lock_timeout: the statement could queue with nothing to end the wait. */
static bool
queues_without_timeout(const MigguardStatement *stmt, const MigguardOp *op)
{
	return migguard_effective_lock_timeout() == 0 &&
		migguard_lock_needs_protection(stmt->analysis, op);
}

static bool
held_since_earlier_statement(const MigguardStatement *stmt, const MigguardOp *op)
{
	return (op->flags & MG_F_HELD_EARLIER) != 0;
}

static bool
fk_unindexed(const MigguardStatement *stmt, const MigguardOp *op)
{
	return (op->flags & MG_F_FK_UNINDEXED) != 0;
}

/* drop_column: an error only when deployed inserts would start failing. */
static MigguardLevel
drop_column_level(const MigguardOp *op)
{
	return ((op->flags & MG_F_NOT_NULL) && !(op->flags & MG_F_HAS_DEFAULT)) ?
		MG_LEVEL_ERROR : MG_LEVEL_WARNING;
}

/* ----------------------------------------------------------------
 * Message builders, one per rule
 * ----------------------------------------------------------------
 */

static void
describe_create_index(const MigguardStatement *stmt, const MigguardOp *op,
					  MigguardFinding *f)
{
	const MigguardRelation *rel = op->rel;

	f->message = psprintf("CREATE INDEX on %s would block writes for the whole index build",
						  rel_with_size(rel));
	f->reason = lock_sentence("CREATE INDEX", op->lockmode, rel,
							  "until the build finishes");

	if (rel->relkind == RELKIND_PARTITIONED_TABLE)
	{
		List	   *parts = find_inheritance_children(rel->relid, NoLock);
		const char *idx = op->index_name ? op->index_name : "new_index";
		char	   *part = parts ? get_rel_name(linitial_oid(parts)) : "partition";
		char	   *columns = migguard_text_after_keyword(stmt->text, "on", '(');

		f->hint = psprintf("CREATE INDEX CONCURRENTLY cannot build an index on a partitioned table. "
						   "Create the index on the parent only, build it concurrently on each partition, "
						   "then attach each partition's index:\n"
						   "%s\n"
						   "CREATE INDEX CONCURRENTLY %s ON %s %s;  -- for each partition\n"
						   "ALTER INDEX %s ATTACH PARTITION %s;",
						   migguard_insert_keyword(stmt->text, "on", "ONLY"),
						   q(psprintf("%s_%s", part, idx)),
						   migguard_quote_qualified(rel->schema, part),
						   columns ? columns : "(...)",
						   migguard_quote_qualified(rel->schema, idx),
						   migguard_quote_qualified(rel->schema,
													  psprintf("%s_%s", part, idx)));
	}
	else
		f->hint = psprintf("Build the index without blocking writes, outside a transaction block:\n%s",
						   migguard_insert_keyword(stmt->text, "index", "CONCURRENTLY"));
}

static void
describe_drop_index(const MigguardStatement *stmt, const MigguardOp *op,
					MigguardFinding *f)
{
	f->message = psprintf("DROP INDEX %s on %s would block reads and writes while it waits for its lock",
						  migguard_display_name(op->index), rel_with_size(op->rel));
	f->reason = lock_sentence("DROP INDEX", op->lockmode, op->rel, NULL);
	f->hint = psprintf("Drop the index without blocking queries, outside a transaction block:\n%s",
					   migguard_insert_keyword(stmt->text, "index", "CONCURRENTLY"));
}

static void
describe_reindex(const MigguardStatement *stmt, const MigguardOp *op,
				 MigguardFinding *f)
{
	f->message = psprintf("REINDEX on %s would block writes, and reads that use the index, for the whole rebuild",
						  rel_with_size(op->rel));
	f->reason = psprintf("%s The rebuilt index is locked ACCESS EXCLUSIVE, so queries planned to use it wait too.",
						 lock_sentence("REINDEX", op->lockmode, op->rel,
									   "until the rebuild finishes"));
	f->hint = psprintf("Rebuild without blocking queries, outside a transaction block:\n%s",
					   migguard_insert_keyword(stmt->text,
											   op->index ? "index" : "table",
											   "CONCURRENTLY"));
}

static void
describe_add_column_rewrite(const MigguardStatement *stmt, const MigguardOp *op,
							MigguardFinding *f)
{
	const char *why;
	char	   *table = migguard_sql_name(op->rel);
	const char *col = q(op->column);
	const char *seq = migguard_quote_qualified(op->rel->schema,
												 psprintf("%s_%s_seq", op->rel->name,
														  op->column));
	/* nextval() reads the name from a string: the quoted name, quoted again. */
	const char *seq_literal = migguard_quote_literal(seq);
	const char *fn = migguard_quote_qualified(op->rel->schema,
											  psprintf("%s_compute", op->column));
	const char *trg = q(psprintf("%s_compute", op->column));
	const char *check = q(psprintf("%s_%s_check", op->rel->name, op->column));

	if (op->flags & MG_F_SERIAL)
		why = "a serial column fills every existing row from a sequence";
	else if (op->flags & MG_F_IDENTITY)
		why = "an identity column fills every existing row from a sequence";
	else if (op->flags & MG_F_STORED_GENERATED)
		why = "a stored generated column is computed for every existing row";
	else if (op->flags & MG_F_DOMAIN_CONSTRAINTS)
		why = "the column's domain has constraints that every existing row must be checked against";
	else
		why = "a volatile default is evaluated separately for every existing row";

	f->message = psprintf("ADD COLUMN \"%s\" would rewrite %s under an ACCESS EXCLUSIVE lock",
						  op->column, rel_with_size(op->rel));
	f->reason = psprintf("%s The table is rewritten because %s.",
						 lock_sentence("ALTER TABLE", op->lockmode, op->rel,
									   "until the rewrite finishes"),
						 why);
	if (op->flags & (MG_F_SERIAL | MG_F_IDENTITY))
		f->hint = psprintf("Add a nullable column, give it a sequence default for new rows, and backfill existing rows in batches:\n"
						   "ALTER TABLE %s ADD COLUMN %s %s;\n"
						   "CREATE SEQUENCE %s;\n"
						   "ALTER TABLE %s ALTER COLUMN %s SET DEFAULT nextval(%s);\n"
						   "UPDATE %s SET %s = nextval(%s) WHERE %s IS NULL;  -- in batches",
						   table, col, type_or_placeholder(op), seq,
						   table, col, seq_literal, table, col, seq_literal, col);
	else if (op->flags & MG_F_STORED_GENERATED)
		f->hint = psprintf("Add a plain nullable column, keep it current with a trigger, and backfill existing rows in batches:\n"
						   "ALTER TABLE %s ADD COLUMN %s %s;\n"
						   "CREATE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql AS %s;\n"
						   "CREATE TRIGGER %s BEFORE INSERT OR UPDATE ON %s FOR EACH ROW EXECUTE FUNCTION %s();\n"
						   "UPDATE %s SET %s = <expression> WHERE %s IS NULL;  -- in batches",
						   table, col, type_or_placeholder(op),
						   fn, dollar_quoted(psprintf("BEGIN NEW.%s := <expression over NEW>; RETURN NEW; END", col)),
						   trg, table, fn,
						   table, col, col);
	else if (op->flags & MG_F_DOMAIN_CONSTRAINTS)
		f->hint = psprintf("Add the column with the domain's base type, backfill it in batches, then add the domain's check as a CHECK constraint NOT VALID and VALIDATE it:\n"
						   "ALTER TABLE %s ADD COLUMN %s %s;\n"
						   "UPDATE %s SET %s = <value> WHERE %s IS NULL;  -- in batches\n"
						   "ALTER TABLE %s ADD CONSTRAINT %s CHECK (<the domain's check on %s>) NOT VALID;\n"
						   "ALTER TABLE %s VALIDATE CONSTRAINT %s;",
						   table, col, type_or_placeholder(op),
						   table, col, col,
						   table, check, col,
						   table, check);
	else
	{
		const char *expr = op->default_expr ? op->default_expr : "<expression>";

		f->hint = psprintf("Add the column without a default, set the default for new rows, then backfill existing rows in batches:\n"
						   "ALTER TABLE %s ADD COLUMN %s %s;\n"
						   "ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s;\n"
						   "UPDATE %s SET %s = %s WHERE %s IS NULL;  -- in batches",
						   table, col, type_or_placeholder(op), table, col, expr,
						   table, col, expr, col);
	}
}

static void
describe_alter_column_type(const MigguardStatement *stmt, const MigguardOp *op,
						   MigguardFinding *f)
{
	char	   *table = migguard_sql_name(op->rel);
	const char *col = q(op->column);
	const char *newcol = q(psprintf("%s_new", op->column));
	const char *fn = migguard_quote_qualified(op->rel->schema,
											  psprintf("%s_new_sync", op->column));
	const char *trg = q(psprintf("%s_new_sync", op->column));

	if (op->flags & MG_F_REWRITES)
		f->message = psprintf("ALTER COLUMN \"%s\" TYPE %s would rewrite %s under an ACCESS EXCLUSIVE lock",
							  op->column, op->new_type, rel_with_size(op->rel));
	else
		f->message = psprintf("ALTER COLUMN \"%s\" TYPE %s would rebuild the indexes of %s under an ACCESS EXCLUSIVE lock",
							  op->column, op->new_type, rel_with_size(op->rel));
	f->reason = lock_sentence("ALTER COLUMN TYPE", op->lockmode, op->rel,
							  (op->flags & MG_F_REWRITES) ?
							  "until every row is rewritten and every index rebuilt" :
							  "until every index on the column is rebuilt");
	f->hint = psprintf("Add a new column, keep it in sync with a trigger, backfill it in batches, then swap the columns in one short transaction:\n"
					   "ALTER TABLE %s ADD COLUMN %s %s;\n"
					   "CREATE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql AS %s;\n"
					   "CREATE TRIGGER %s BEFORE INSERT OR UPDATE ON %s FOR EACH ROW EXECUTE FUNCTION %s();\n"
					   "UPDATE %s SET %s = %s WHERE %s IS NULL;  -- in batches\n"
					   "BEGIN;\n"
					   "DROP FUNCTION %s() CASCADE;\n"
					   "ALTER TABLE %s DROP COLUMN %s;\n"
					   "ALTER TABLE %s RENAME COLUMN %s TO %s;\n"
					   "COMMIT;",
					   table, newcol, op->new_type,
					   fn, dollar_quoted(psprintf("BEGIN NEW.%s := NEW.%s; RETURN NEW; END",
												  newcol, col)),
					   trg, table, fn,
					   table, newcol, col, newcol,
					   fn, table, col, table, newcol, col);
}

static void
describe_table_rewrite(const MigguardStatement *stmt, const MigguardOp *op,
					   MigguardFinding *f)
{
	const char *table = migguard_sql_name(op->rel);
	const char *newtable = migguard_quote_qualified(op->rel->schema,
													psprintf("%s_new", op->rel->name));

	f->message = psprintf("%s would rewrite %s under an ACCESS EXCLUSIVE lock",
						  op->command, rel_with_size(op->rel));
	f->reason = psprintf("%s The table is rewritten because of %s.",
						 lock_sentence(op->command, AccessExclusiveLock, op->rel,
									   "until the rewrite finishes"),
						 op->rewrite_reason ? op->rewrite_reason : op->command);
	f->hint = psprintf("Rewrite the table online with pg_repack, or build a new table with the new definition, copy the rows in batches (a trigger copying the writes meanwhile) and switch over in one short transaction:\n"
					   "CREATE TABLE %s (LIKE %s INCLUDING ALL);\n"
					   "INSERT INTO %s SELECT * FROM %s WHERE <key range>;  -- in batches\n"
					   "BEGIN;\n"
					   "ALTER TABLE %s RENAME TO %s;\n"
					   "ALTER TABLE %s RENAME TO %s;\n"
					   "COMMIT;",
					   newtable, table, newtable, table,
					   table, q(psprintf("%s_old", op->rel->name)),
					   newtable, q(op->rel->name));
}

static void
describe_set_not_null(const MigguardStatement *stmt, const MigguardOp *op,
					  MigguardFinding *f)
{
	char	   *table = migguard_sql_name(op->rel);
	const char *col = q(op->column);
	const char *con = q(psprintf("%s_%s_not_null", op->rel->name, op->column));

	f->message = psprintf("SET NOT NULL on column \"%s\" would scan %s under an ACCESS EXCLUSIVE lock",
						  op->column, rel_with_size(op->rel));
	f->reason = psprintf("%s%s",
						 lock_sentence((op->flags & MG_F_IMPLIED) ?
									   "ADD PRIMARY KEY makes the column NOT NULL, which" :
									   "SET NOT NULL",
									   op->lockmode, op->rel,
									   "while every row is checked"),
						 " No valid CHECK constraint proves the column is not null.");
	if (op->constraint_name != NULL)
	{
		/* 18: SET NOT NULL would validate this NOT VALID constraint. */
		f->hint = psprintf("Validate the column's NOT VALID NOT NULL constraint, which takes a SHARE UPDATE EXCLUSIVE lock that lets reads and writes go on:\n"
						   "ALTER TABLE %s VALIDATE CONSTRAINT %s;",
						   table, q(op->constraint_name));
		return;
	}
	if (MG_HAS_NOT_NULL_NOT_VALID)
	{
		/* 18: ALTER TABLE ... ADD CONSTRAINT ... NOT NULL ... NOT VALID. */
		f->hint = psprintf("Add the NOT NULL constraint NOT VALID, which is instant, then validate it under a SHARE UPDATE EXCLUSIVE lock that lets reads and writes go on:\n"
						   "ALTER TABLE %s ADD CONSTRAINT %s NOT NULL %s NOT VALID;\n"
						   "ALTER TABLE %s VALIDATE CONSTRAINT %s;",
						   table, con, col, table, con);
		return;
	}
	f->hint = psprintf("Prove the column is not null with a constraint validated under a weaker lock, then set NOT NULL without a scan:\n"
					   "ALTER TABLE %s ADD CONSTRAINT %s CHECK (%s IS NOT NULL) NOT VALID;\n"
					   "ALTER TABLE %s VALIDATE CONSTRAINT %s;\n"
					   "ALTER TABLE %s ALTER COLUMN %s SET NOT NULL;\n"
					   "ALTER TABLE %s DROP CONSTRAINT %s;",
					   table, con, col, table, con, table, col, table, con);
}

static void
describe_add_constraint_scan(const MigguardStatement *stmt, const MigguardOp *op,
							 MigguardFinding *f)
{
	char	   *table = migguard_sql_name(op->rel);
	const char *con = op->constraint_name ? q(op->constraint_name) : "<constraint>";
	const char *kind = constraint_kind_sql(op->constraint_kind);

	if (op->flags & MG_F_SET_EXPRESSION)
	{
		const char *col = op->columns;
		bool		nn = op->constraint_kind == MG_CON_NOT_NULL;

		f->message = psprintf("SET EXPRESSION on virtual column %s would scan %s under %s lock",
							  col, rel_with_size(op->rel),
							  lock_with_article(op->lockmode));
		f->reason = lock_sentence("ALTER COLUMN ... SET EXPRESSION", op->lockmode, op->rel,
								  nn ? "while every row is checked against the column's NOT NULL constraint"
								  : "while every row is checked against the CHECK constraints that read the column");
		if (nn)
			f->hint = psprintf("In one transaction, drop the NOT NULL constraint, set the expression (no scan then) and add the constraint again NOT VALID, which is instant; then validate it under a SHARE UPDATE EXCLUSIVE lock that lets reads and writes go on:\n"
							   "BEGIN;\n"
							   "ALTER TABLE %s ALTER COLUMN %s DROP NOT NULL;\n"
							   "ALTER TABLE %s ALTER COLUMN %s SET EXPRESSION AS (...);\n"
							   "ALTER TABLE %s ADD CONSTRAINT %s NOT NULL %s NOT VALID;\n"
							   "COMMIT;\n"
							   "ALTER TABLE %s VALIDATE CONSTRAINT %s;",
							   table, col, table, col, table,
							   q(psprintf("%s_%s_not_null", op->rel->name, op->column)),
							   col, table,
							   q(psprintf("%s_%s_not_null", op->rel->name, op->column)));
		else
			f->hint = psprintf("In one transaction, drop the CHECK constraints that read the column, set the expression (no scan then) and add them again NOT VALID, which is instant; then validate them under a SHARE UPDATE EXCLUSIVE lock that lets reads and writes go on:\n"
							   "BEGIN;\n"
							   "ALTER TABLE %s DROP CONSTRAINT <constraint>;\n"
							   "ALTER TABLE %s ALTER COLUMN %s SET EXPRESSION AS (...);\n"
							   "ALTER TABLE %s ADD CONSTRAINT <constraint> CHECK (...) NOT VALID;\n"
							   "COMMIT;\n"
							   "ALTER TABLE %s VALIDATE CONSTRAINT <constraint>;",
							   table, table, col, table, table);
		return;
	}
	if (op->flags & MG_F_ENFORCE)
	{
		f->message = psprintf("ALTER CONSTRAINT %s ENFORCED would scan %s under %s lock",
							  con, rel_with_size(op->rel),
							  lock_with_article(op->lockmode));
		f->reason = lock_sentence("ALTER CONSTRAINT ... ENFORCED", op->lockmode,
								  op->rel, "while every row is checked");
		f->hint = psprintf("Drop the NOT ENFORCED constraint and add it again NOT VALID, which is instant, then validate it under a SHARE UPDATE EXCLUSIVE lock that lets reads and writes go on:\n"
						   "ALTER TABLE %s DROP CONSTRAINT %s;\n"
						   "ALTER TABLE %s ADD CONSTRAINT %s %s ... NOT VALID;\n"
						   "ALTER TABLE %s VALIDATE CONSTRAINT %s;",
						   table, con, table, con, constraint_kind_sql(op->constraint_kind),
						   table, con);
		return;
	}
	f->message = psprintf("ADD %s would scan %s under %s lock",
						  kind, rel_with_size(op->rel),
						  lock_with_article(op->lockmode));
	if (op->referenced)
		f->reason = psprintf("%s The referenced table %s is locked in the same mode.",
							 lock_sentence("ADD FOREIGN KEY", op->lockmode, op->rel,
										   "while every row is checked"),
							 migguard_display_name(op->referenced));
	else
		f->reason = lock_sentence(psprintf("ADD %s", kind), op->lockmode,
								  op->rel, "while every row is checked");
	f->hint = psprintf("Add the constraint NOT VALID, which is instant, then validate it under a SHARE UPDATE EXCLUSIVE lock that lets reads and writes go on:\n"
					   "ALTER TABLE %s ADD CONSTRAINT %s %s ... NOT VALID;\n"
					   "ALTER TABLE %s VALIDATE CONSTRAINT %s;",
					   table, con, kind, table, con);
}

static void
describe_add_unique_constraint(const MigguardStatement *stmt, const MigguardOp *op,
							   MigguardFinding *f)
{
	char	   *table = migguard_sql_name(op->rel);
	const char *con = op->constraint_name ? q(op->constraint_name) :
		q(psprintf("%s_%s", op->rel->name,
				   op->constraint_kind == MG_CON_PRIMARY_KEY ? "pkey" : "key"));

	f->message = psprintf("ADD %s would build an index on %s under an ACCESS EXCLUSIVE lock",
						  constraint_kind_sql(op->constraint_kind), rel_with_size(op->rel));
	f->reason = lock_sentence(psprintf("ADD %s", constraint_kind_sql(op->constraint_kind)), op->lockmode,
							  op->rel, "until the index is built");
	if (op->constraint_kind == MG_CON_EXCLUSION)
		f->hint = pstrdup("Exclusion constraints cannot be attached from an existing index. "
						  "Add the constraint in a maintenance window, or to a new table that replaces this one.");
	else if (op->flags & MG_F_WITHOUT_OVERLAPS)
	{
		/*
		 * transformIndexConstraint: USING INDEX takes a unique btree index
		 * only, and a WITHOUT OVERLAPS key needs a GiST one (GiST cannot be
		 * UNIQUE): no index built beforehand can become this constraint.
		 */
		f->hint = psprintf("A WITHOUT OVERLAPS %s cannot be attached from an existing index (ADD CONSTRAINT ... USING INDEX takes a unique btree index, this key needs a GiST one). "
						   "Add the constraint in a maintenance window, or to a new table that replaces this one.",
						   constraint_kind_sql(op->constraint_kind));
	}
	else
		f->hint = psprintf("Build a unique index concurrently, outside a transaction block, then attach it:\n"
						   "CREATE UNIQUE INDEX CONCURRENTLY %s ON %s (%s);\n"
						   "ALTER TABLE %s ADD CONSTRAINT %s %s USING INDEX %s;",
						   con, table, op->columns ? op->columns : "...",
						   table, con, constraint_kind_sql(op->constraint_kind), con);
}

static void
describe_vacuum_full(const MigguardStatement *stmt, const MigguardOp *op,
					 MigguardFinding *f)
{
	/* op->command: CLUSTER or 19's REPACK, as the user wrote it */
	const char *what = !(op->flags & MG_F_CLUSTER) ? "VACUUM FULL" :
		op->command ? op->command : "CLUSTER";

	f->message = psprintf("%s would rewrite %s under an ACCESS EXCLUSIVE lock",
						  what, rel_with_size(op->rel));
	f->reason = lock_sentence(what, op->lockmode, op->rel,
							  "until the rewrite finishes");
	if (MG_HAS_REPACK_CONCURRENTLY && op->rel->relkind == RELKIND_PARTITIONED_TABLE)
		f->hint = pstrdup("Rewrite each partition with REPACK (CONCURRENTLY), which holds the ACCESS EXCLUSIVE lock only to swap the files (outside a transaction block; not MVCC-safe: see the REPACK documentation), "
						  "or run plain VACUUM, which does not block reads or writes.");
	else if (MG_HAS_REPACK_CONCURRENTLY)
		f->hint = psprintf("Rewrite the table with REPACK (CONCURRENTLY), which holds the ACCESS EXCLUSIVE lock only to swap the files (outside a transaction block; not MVCC-safe: see the REPACK documentation), "
						   "or run plain VACUUM, which does not block reads or writes:\n"
						   "REPACK (CONCURRENTLY) %s;", migguard_sql_name(op->rel));
	else
		f->hint = pstrdup("Rewrite the table online with pg_repack or pg_squeeze, "
						  "or run plain VACUUM, which does not block reads or writes.");
}

static void
describe_refresh_matview(const MigguardStatement *stmt, const MigguardOp *op,
						 MigguardFinding *f)
{
	f->message = psprintf("REFRESH MATERIALIZED VIEW would block reads of %s for the whole refresh",
						  rel_with_size(op->rel));
	f->reason = lock_sentence("REFRESH MATERIALIZED VIEW", op->lockmode,
							  op->rel, "until the refresh finishes");
	f->hint = psprintf("Refresh without blocking reads (the view needs a unique index):\n%s",
					   migguard_insert_keyword(stmt->text, "view", "CONCURRENTLY"));
}

static void
describe_set_tablespace(const MigguardStatement *stmt, const MigguardOp *op,
						MigguardFinding *f)
{
	f->message = psprintf("SET TABLESPACE would copy %s%s%s under an ACCESS EXCLUSIVE lock",
						  op->index ? migguard_display_name(op->index) : "",
						  op->index ? " of " : "",
						  rel_with_size(op->rel));
	f->reason = lock_sentence("SET TABLESPACE", AccessExclusiveLock, op->rel,
							  "until every file is copied");
	f->hint = psprintf("Move the data online with pg_repack --tablespace=%s, "
					   "or build a copy in the new tablespace and switch over.",
					   shell_word(op->tablespace));
}

static void
describe_attach_partition_scan(const MigguardStatement *stmt, const MigguardOp *op,
							   MigguardFinding *f)
{
	char	   *part = migguard_sql_name(op->rel);
	const char *con = q(psprintf("%s_bound", op->rel->name));

	if (op->flags & MG_F_DEFAULT_PARTITION)
	{
		f->message = psprintf("the new partition of %s would scan its default partition %s under an ACCESS EXCLUSIVE lock",
							  migguard_display_name(op->parent), rel_with_size(op->rel));
		f->reason = psprintf("%s No valid CHECK constraint on the default partition excludes the new bound.",
							 lock_sentence("Adding a partition", op->lockmode, op->rel,
										   "while every row is checked"));
		f->hint = psprintf("Add a CHECK constraint NOT VALID to the default partition that excludes the new bound, validate it, then add the partition:\n"
						   "ALTER TABLE %s ADD CONSTRAINT %s CHECK (NOT (<new bound>)) NOT VALID;\n"
						   "ALTER TABLE %s VALIDATE CONSTRAINT %s;",
						   part, con, part, con);
	}
	else
	{
		f->message = psprintf("ATTACH PARTITION would scan %s under an ACCESS EXCLUSIVE lock",
							  rel_with_size(op->rel));
		f->reason = psprintf("%s No valid CHECK constraint on it implies the partition bound.",
							 lock_sentence("ATTACH PARTITION", op->lockmode, op->rel,
										   "while every row is checked"));
		f->hint = psprintf("Add a CHECK constraint matching the bound NOT VALID, validate it, attach, then drop it:\n"
						   "ALTER TABLE %s ADD CONSTRAINT %s CHECK (<bound>) NOT VALID;\n"
						   "ALTER TABLE %s VALIDATE CONSTRAINT %s;\n"
						   "%s;\n"
						   "ALTER TABLE %s DROP CONSTRAINT %s;",
						   part, con, part, con, stmt->text, part, con);
	}
}

static void
describe_detach_partition(const MigguardStatement *stmt, const MigguardOp *op,
						  MigguardFinding *f)
{
	f->message = psprintf("DETACH PARTITION would block reads and writes of %s while it waits for its lock",
						  rel_with_size(op->rel));
	f->reason = lock_sentence("DETACH PARTITION", op->lockmode, op->rel, NULL);
	f->hint = psprintf("Detach without blocking queries, outside a transaction block:\n%s",
					   migguard_append_before_semicolon(stmt->text, " CONCURRENTLY"));
}

static void
describe_drop_table(const MigguardStatement *stmt, const MigguardOp *op,
					MigguardFinding *f)
{
	f->message = psprintf("DROP TABLE would delete %s, which is not empty",
						  rel_with_size(op->rel));
	f->reason = psprintf("The table holds rows; deployed code that still reads or writes %s breaks at once, and the data cannot be recovered without a backup.",
						 migguard_display_name(op->rel));
	f->hint = psprintf("Make sure no deployed code uses the table, keep a copy if the data matters, then drop it on purpose with the override below, or rename it first and drop it in a later release:\n"
					   "ALTER TABLE %s RENAME TO %s;",
					   migguard_sql_name(op->rel),
					   q(psprintf("%s_to_drop", op->rel->name)));
}

static void
describe_truncate(const MigguardStatement *stmt, const MigguardOp *op,
				  MigguardFinding *f)
{
	f->message = psprintf("TRUNCATE would delete every row of %s",
						  rel_with_size(op->rel));
	f->reason = psprintf("The table holds rows, and TRUNCATE removes them all at once under an ACCESS EXCLUSIVE lock on %s.",
						 migguard_display_name(op->rel));
	f->hint = psprintf("If the rows really must go, delete them in batches, or truncate on purpose with the override below:\n"
					   "DELETE FROM %s WHERE ctid IN (SELECT ctid FROM %s LIMIT 10000);  -- repeat",
					   migguard_sql_name(op->rel), migguard_sql_name(op->rel));
}

static void
describe_drop_column(const MigguardStatement *stmt, const MigguardOp *op,
					 MigguardFinding *f)
{
	char	   *table = migguard_sql_name(op->rel);
	const char *col = q(op->column);

	f->message = psprintf("DROP COLUMN \"%s\" would break deployed code that still uses it in %s",
						  op->column, migguard_display_name(op->rel));
	if (drop_column_level(op) == MG_LEVEL_ERROR)
	{
		f->reason = pstrdup("The column is NOT NULL without a default: deployed code still inserts it, and queries or ORM column lists that name it fail once it is gone.");
		f->hint = psprintf("Make the column nullable, deploy code that no longer uses it, then drop it:\n"
						   "ALTER TABLE %s ALTER COLUMN %s DROP NOT NULL;\n"
						   "ALTER TABLE %s DROP COLUMN %s;  -- after the deploy",
						   table, col, table, col);
	}
	else
	{
		f->reason = pstrdup("Queries or ORM column lists that still name the column fail once it is gone.");
		f->hint = psprintf("Deploy code that no longer reads or writes the column first, then drop it:\n"
						   "ALTER TABLE %s DROP COLUMN %s;",
						   table, col);
	}
}

static void
describe_rename_column(const MigguardStatement *stmt, const MigguardOp *op,
					   MigguardFinding *f)
{
	char	   *table = migguard_sql_name(op->rel);
	const char *oldcol = q(op->column);
	const char *newcol = q(op->new_name);
	const char *fn = migguard_quote_qualified(op->rel->schema,
											  psprintf("%s_sync", op->new_name));
	const char *trg = q(psprintf("%s_sync", op->new_name));
	/* Old code writes the old column, new code the new one. */
	char	   *body = psprintf("BEGIN IF TG_OP = 'INSERT' THEN NEW.%s := COALESCE(NEW.%s, NEW.%s); NEW.%s := COALESCE(NEW.%s, NEW.%s); "
								"ELSIF NEW.%s IS DISTINCT FROM OLD.%s THEN NEW.%s := NEW.%s; ELSE NEW.%s := NEW.%s; END IF; RETURN NEW; END",
								newcol, newcol, oldcol, oldcol, oldcol, newcol,
								oldcol, oldcol, newcol, oldcol, oldcol, newcol);

	f->message = psprintf("RENAME COLUMN \"%s\" of %s would break deployed code that still uses the old name",
						  op->column, migguard_display_name(op->rel));
	f->reason = pstrdup("Application code already deployed refers to the column by its old name; it fails from the moment the rename commits.");

	f->hint = psprintf("Add the new column, keep both in sync with a trigger, backfill, move the code to the new name, then drop the old column and the trigger:\n"
					   "ALTER TABLE %s ADD COLUMN %s %s;\n"
					   "CREATE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql AS %s;\n"
					   "CREATE TRIGGER %s BEFORE INSERT OR UPDATE ON %s FOR EACH ROW EXECUTE FUNCTION %s();\n"
					   "UPDATE %s SET %s = %s WHERE %s IS NULL;  -- in batches\n"
					   "ALTER TABLE %s DROP COLUMN %s;  -- after the deploy that uses %s\n"
					   "DROP FUNCTION %s() CASCADE;",
					   table, newcol, type_or_placeholder(op),
					   fn, dollar_quoted(body),
					   trg, table, fn,
					   table, newcol, oldcol, newcol,
					   table, oldcol, newcol,
					   fn);
}

static void
describe_rename_table(const MigguardStatement *stmt, const MigguardOp *op,
					  MigguardFinding *f)
{
	if (op->flags & MG_F_SCHEMA)
	{
		f->message = psprintf("RENAME of schema \"%s\" would break deployed code that still uses the old name",
							  op->rel->name);
		f->reason = pstrdup("Application code already deployed refers to the schema by its old name.");
		f->hint = pstrdup("Create the new schema, move objects one by one behind views or synonyms in the old schema, then drop the old schema when nothing uses it.");
		return;
	}
	f->message = psprintf("%s of %s would break deployed code that still uses the old name",
						  (op->flags & MG_F_SET_SCHEMA) ? "SET SCHEMA" : "RENAME",
						  migguard_display_name(op->rel));
	f->reason = pstrdup("Application code already deployed refers to the relation by its old name; it fails from the moment the change commits.");
	if (op->flags & MG_F_SET_SCHEMA)
		f->hint = psprintf("Move the table and leave a view under the old name in the same transaction (a simple view is updatable, so deployed writes keep working), deploy code that uses the new name, then drop the view:\n"
						   "BEGIN;\n"
						   "ALTER TABLE %s SET SCHEMA %s;\n"
						   "CREATE VIEW %s AS SELECT * FROM %s;\n"
						   "COMMIT;\n"
						   "DROP VIEW %s;  -- after the deploy",
						   migguard_sql_name(op->rel), q(op->new_name),
						   migguard_sql_name(op->rel),
						   migguard_quote_qualified(op->new_name, op->rel->name),
						   migguard_sql_name(op->rel));
	else
		f->hint = psprintf("Rename and leave a view under the old name in the same transaction (a simple view is updatable, so deployed writes keep working), deploy code that uses the new name, then drop the view:\n"
						   "BEGIN;\n"
						   "ALTER TABLE %s RENAME TO %s;\n"
						   "CREATE VIEW %s AS SELECT * FROM %s;\n"
						   "COMMIT;\n"
						   "DROP VIEW %s;  -- after the deploy",
						   migguard_sql_name(op->rel), q(op->new_name),
						   migguard_sql_name(op->rel),
						   migguard_quote_qualified(op->rel->schema, op->new_name),
						   migguard_sql_name(op->rel));
}

static void
describe_add_column_not_null(const MigguardStatement *stmt, const MigguardOp *op,
							 MigguardFinding *f)
{
	char	   *table = migguard_sql_name(op->rel);
	const char *col = q(op->column);

	f->message = psprintf("ADD COLUMN \"%s\" NOT NULL without a default would make inserts from deployed code fail",
						  op->column);
	f->reason = psprintf("Deployed code does not know the column and inserts rows into %s without it; the table is empty now, so the statement itself succeeds.",
						 migguard_display_name(op->rel));
	f->hint = psprintf("Give the column a default, which is instant since PostgreSQL 11, or add it nullable and backfill before setting NOT NULL:\n"
					   "ALTER TABLE %s ADD COLUMN %s %s NOT NULL DEFAULT <value>;",
					   table, col, type_or_placeholder(op));
}

static void
describe_invalid_index(const MigguardStatement *stmt, const MigguardOp *op,
					   MigguardFinding *f)
{
	f->message = psprintf("CREATE INDEX IF NOT EXISTS would skip %s, which exists but is INVALID",
						  migguard_display_name(op->index));
	f->reason = pstrdup("An earlier CREATE INDEX CONCURRENTLY failed and left an invalid index behind; IF NOT EXISTS succeeds without building it, and queries never use it.");
	f->hint = psprintf("Drop the invalid index concurrently and build it again:\n"
					   "DROP INDEX CONCURRENTLY %s;\n%s",
					   migguard_sql_name(op->index),
					   (op->flags & MG_F_CONCURRENTLY) ?
					   psprintf("%s;", stmt->text) :
					   migguard_insert_keyword(stmt->text, "index", "CONCURRENTLY"));
}

static void
describe_lock_timeout(const MigguardStatement *stmt, const MigguardOp *op,
					  MigguardFinding *f)
{
	f->message = psprintf("%s lock on %s would be requested with no lock timeout",
						  migguard_lock_mode_sql(op->lockmode),
						  migguard_display_name(op->rel));
	f->reason = psprintf("%s While it waits behind another transaction, every later query on the table waits behind it.",
						 lock_sentence("The statement", op->lockmode, op->rel,
									   NULL));
	f->hint = pstrdup("Bound the wait, so that the statement gives up and migguard retries it instead of stalling the table:\n"
					  "SET migguard.lock_timeout = '5s';");
}

static void
describe_strong_lock_held(const MigguardStatement *stmt, const MigguardOp *op,
						  MigguardFinding *f)
{
	const char *mode = migguard_lock_mode_sql(op->lockmode);

	f->message = psprintf("statement runs while this transaction holds %s lock on %s",
						  lock_with_article(op->lockmode), rel_with_size(op->rel));
	f->reason = psprintf("An earlier statement of this transaction locked %s %s, which %s until the transaction ends, however long the later statements take.",
						 migguard_display_name(op->rel), mode,
						 migguard_lock_blocks(op->lockmode));
	f->hint = psprintf("Commit right after the statement that takes the %s lock, and run the later statements in transactions of their own.",
					   mode);
}

static void
describe_not_null_without_default(const MigguardStatement *stmt, const MigguardOp *op,
								  MigguardFinding *f)
{
	char	   *table = migguard_sql_name(op->rel);
	const char *col = q(op->column);
	const char *type = type_or_placeholder(op);

	f->message = psprintf("%s on column \"%s\" of %s would leave it NOT NULL without a default: inserts from deployed code that omit it fail",
						  op->command, op->column, migguard_display_name(op->rel));
	f->reason = psprintf("Code deployed before this migration inserts rows into %s without naming \"%s\"; from the moment the change commits, each such INSERT fails with a not-null violation (23502).",
						 migguard_display_name(op->rel), op->column);
	if (!(op->flags & MG_F_DROPS_DEFAULT))
		f->hint = psprintf("Set NOT NULL only in a release after every deployed version writes the column (then accept the finding with the override below), or give the column a default first:\n"
						   "ALTER TABLE %s ALTER COLUMN %s SET DEFAULT <value>;\n"
						   "Django 5.0 and later: db_default=<value> on the field; Alembic: server_default=<value>.",
						   table, col);
	else
		f->hint = psprintf("Keep a database default as long as deployed code may omit the column, and drop it only in a later release, after every deployed version sets the column:\n"
						   "ALTER TABLE %s ALTER COLUMN %s SET DEFAULT <value>;\n"
						   "Django 5.0 and later: declare the field with db_default=<value> (AddField then keeps the default in the database). "
						   "Django 3.2 to 4.2: add the field with null=True, backfill it, and make it NOT NULL in a later release; "
						   "Alembic: op.add_column(..., server_default=<value>) and keep the server_default.\n"
						   "Plain SQL, in separate releases:\n"
						   "ALTER TABLE %s ADD COLUMN %s %s;\n"
						   "UPDATE %s SET %s = <value> WHERE %s IS NULL;  -- in batches, once deployed code writes it\n"
						   "ALTER TABLE %s ALTER COLUMN %s SET NOT NULL;  -- in a later release",
						   table, col, table, col, type, table, col, col, table, col);
}

static void
describe_dml_under_lock(const MigguardStatement *stmt, const MigguardOp *op,
						MigguardFinding *f)
{
	const char *mode = migguard_lock_mode_sql(op->lockmode);

	f->message = psprintf("%s touched " UINT64_FORMAT " row%s while this transaction holds %s lock on %s",
						  op->command, op->rows,
						  op->rows == 1 ? "" : "s",
						  lock_with_article(op->lockmode),
						  rel_with_size(op->rel));
	f->reason = psprintf("An earlier statement of this transaction locked %s %s, which %s until the transaction ends: the queries on it wait for all of this data change, and for the rest of the transaction.",
						 migguard_display_name(op->rel), mode,
						 migguard_lock_blocks(op->lockmode));
	f->hint = psprintf("Commit the DDL first, then change the data in batches, each in a transaction of its own:\n"
					   "COMMIT;\n"
					   "UPDATE %s SET ... WHERE ctid IN (SELECT ctid FROM %s WHERE ... LIMIT 10000);  -- repeat until it touches no row",
					   migguard_sql_name(op->rel), migguard_sql_name(op->rel));
}

static void
describe_fk_without_index(const MigguardStatement *stmt, const MigguardOp *op,
						  MigguardFinding *f)
{
	char	   *table = migguard_sql_name(op->rel);
	const char *cols = op->columns ? op->columns : "...";

	f->message = psprintf("foreign key on %s (%s) has no index on the referencing columns",
						  migguard_display_name(op->rel), cols);
	f->reason = psprintf("Every DELETE on the referenced table %s, and every UPDATE of its key, looks up the referencing rows of %s by (%s): without an index that starts with those columns, each of them scans %s.",
						 op->referenced ? migguard_display_name(op->referenced) : "",
						 migguard_display_name(op->rel), cols,
						 rel_with_size(op->rel));
	f->hint = psprintf("Index the referencing columns, outside a transaction block:\n"
					   "CREATE INDEX CONCURRENTLY %s ON %s (%s);",
					   q(op->constraint_name ? psprintf("%s_idx", op->constraint_name) :
						 psprintf("%s_fk_idx", op->rel->name)),
					   table, cols);
}

static void
describe_rename_enum_value(const MigguardStatement *stmt, const MigguardOp *op,
						   MigguardFinding *f)
{
	const char *type = op->column_type;

	f->message = psprintf("RENAME VALUE '%s' of enum %s would break deployed code that still writes the old label",
						  op->old_label, type);
	f->reason = psprintf("%s has a column of type %s; deployed code that inserts or compares '%s' fails with invalid input value from the moment the rename commits.",
						 migguard_display_name(op->rel), type, op->old_label);
	f->hint = psprintf("Add the new label, deploy code that writes it, move the rows over, and stop using the old label (an enum value cannot be dropped; keep it unused):\n"
					   "ALTER TYPE %s ADD VALUE IF NOT EXISTS %s;\n"
					   "UPDATE %s SET <column> = %s WHERE <column> = %s;  -- in batches, after the deploy",
					   type, migguard_quote_literal(op->new_name),
					   migguard_sql_name(op->rel), migguard_quote_literal(op->new_name),
					   migguard_quote_literal(op->old_label));
}

/* ----------------------------------------------------------------
 * The catalog
 * ----------------------------------------------------------------
 */
static const RuleDef rule_catalog[MG_NUM_RULES] = {
	[MG_RULE_CREATE_INDEX] = {"create_index", "locking", MG_LEVEL_ERROR, true, MG_OP_CREATE_INDEX,
		"CREATE [UNIQUE] INDEX without CONCURRENTLY: a SHARE lock blocks writes for the whole build.",
	builds_index_blocking, NULL, describe_create_index},
	[MG_RULE_DROP_INDEX] = {"drop_index", "locking", MG_LEVEL_WARNING, true, MG_OP_DROP_INDEX,
		"DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the table.",
	not_concurrent, NULL, describe_drop_index},
	[MG_RULE_REINDEX] = {"reindex", "locking", MG_LEVEL_ERROR, true, MG_OP_REINDEX,
		"REINDEX TABLE/INDEX without CONCURRENTLY blocks writes and reads that use the index.",
	not_concurrent, NULL, describe_reindex},
	[MG_RULE_ADD_COLUMN_REWRITE] = {"add_column_rewrite", "rewrite", MG_LEVEL_ERROR, true, MG_OP_ADD_COLUMN,
		"ADD COLUMN that rewrites the table: volatile default, identity, serial, stored generated column, domain with constraints.",
	add_column_rewrites, NULL, describe_add_column_rewrite},
	[MG_RULE_ALTER_COLUMN_TYPE] = {"alter_column_type", "rewrite", MG_LEVEL_ERROR, true, MG_OP_ALTER_COLUMN_TYPE,
		"ALTER COLUMN ... TYPE that rewrites the table or rebuilds its indexes.",
	type_change_rewrites, NULL, describe_alter_column_type},
	[MG_RULE_TABLE_REWRITE] = {"table_rewrite", "rewrite", MG_LEVEL_ERROR, true, MG_OP_TABLE_REWRITE,
		"Any other rewrite of a large table reported by the table_rewrite event (SET LOGGED/UNLOGGED, SET ACCESS METHOD, type changes through domains).",
	not_a_no_op, NULL, describe_table_rewrite},
	[MG_RULE_SET_NOT_NULL] = {"set_not_null", "locking", MG_LEVEL_ERROR, true, MG_OP_SET_NOT_NULL,
		"SET NOT NULL (also implied by ADD PRIMARY KEY) without a valid CHECK proving it: full scan under ACCESS EXCLUSIVE.",
	set_not_null_scans, NULL, describe_set_not_null},
	[MG_RULE_ADD_CONSTRAINT_SCAN] = {"add_constraint_scan", "locking", MG_LEVEL_ERROR, true, MG_OP_ADD_CONSTRAINT,
		"ADD CHECK or ADD FOREIGN KEY without NOT VALID: scan under lock (a foreign key locks both tables).",
	constraint_scans, NULL, describe_add_constraint_scan},
	[MG_RULE_ADD_UNIQUE_CONSTRAINT] = {"add_unique_constraint", "locking", MG_LEVEL_ERROR, true, MG_OP_ADD_CONSTRAINT,
		"ADD UNIQUE / PRIMARY KEY / EXCLUDE without USING INDEX: index build under ACCESS EXCLUSIVE.",
	constraint_builds_index, NULL, describe_add_unique_constraint},
	[MG_RULE_VACUUM_FULL] = {"vacuum_full", "rewrite", MG_LEVEL_ERROR, true, MG_OP_REWRITE_MAINTENANCE,
		"VACUUM FULL or CLUSTER: rewrite under ACCESS EXCLUSIVE.",
	not_concurrent, NULL, describe_vacuum_full},
	[MG_RULE_REFRESH_MATVIEW] = {"refresh_matview", "locking", MG_LEVEL_ERROR, true, MG_OP_REFRESH_MATVIEW,
		"REFRESH MATERIALIZED VIEW without CONCURRENTLY blocks reads.",
	refresh_blocks_reads, NULL, describe_refresh_matview},
	[MG_RULE_SET_TABLESPACE] = {"set_tablespace", "rewrite", MG_LEVEL_ERROR, true, MG_OP_SET_TABLESPACE,
		"ALTER TABLE/INDEX ... SET TABLESPACE copies every file under ACCESS EXCLUSIVE.",
	not_a_no_op, NULL, describe_set_tablespace},
	[MG_RULE_ATTACH_PARTITION_SCAN] = {"attach_partition_scan", "locking", MG_LEVEL_WARNING, true, MG_OP_ATTACH_PARTITION,
		"ATTACH PARTITION (or CREATE TABLE ... PARTITION OF) that scans the partition or the default partition under lock.",
	partition_is_scanned, NULL, describe_attach_partition_scan},
	[MG_RULE_DETACH_PARTITION] = {"detach_partition", "locking", MG_LEVEL_WARNING, true, MG_OP_DETACH_PARTITION,
		"DETACH PARTITION without CONCURRENTLY (PostgreSQL 14+).",
	detach_could_be_concurrent, NULL, describe_detach_partition},
	[MG_RULE_DROP_TABLE] = {"drop_table", "destructive", MG_LEVEL_ERROR, false, MG_OP_DROP_TABLE,
		"DROP TABLE (also through DROP SCHEMA ... CASCADE) of a non-empty table.",
	holds_rows, NULL, describe_drop_table},
	[MG_RULE_TRUNCATE] = {"truncate", "destructive", MG_LEVEL_ERROR, false, MG_OP_TRUNCATE,
		"TRUNCATE of a non-empty table (with CASCADE, of every table it empties).",
	holds_rows, NULL, describe_truncate},
	[MG_RULE_DROP_COLUMN] = {"drop_column", "destructive", MG_LEVEL_ERROR, false, MG_OP_DROP_COLUMN,
		"DROP COLUMN: an error if the column is NOT NULL without default, else a warning.",
	always, drop_column_level, describe_drop_column},
	[MG_RULE_RENAME_COLUMN] = {"rename_column", "compatibility", MG_LEVEL_ERROR, false, MG_OP_RENAME_COLUMN,
		"RENAME COLUMN on an existing table breaks deployed code.",
	always, NULL, describe_rename_column},
	[MG_RULE_RENAME_TABLE] = {"rename_table", "compatibility", MG_LEVEL_ERROR, false, MG_OP_RENAME_RELATION,
		"RENAME or SET SCHEMA of a table, view, materialized view or sequence, or ALTER SCHEMA ... RENAME.",
	always, NULL, describe_rename_table},
	[MG_RULE_ADD_COLUMN_NOT_NULL] = {"add_column_not_null", "compatibility", MG_LEVEL_ERROR, false, MG_OP_ADD_COLUMN,
		"ADD COLUMN ... NOT NULL without a default on an empty table: deployed inserts fail (with rows, PostgreSQL refuses the statement itself).",
	add_column_not_null_without_default, NULL, describe_add_column_not_null},
	[MG_RULE_LOCK_TIMEOUT] = {"lock_timeout", "queue", MG_LEVEL_WARNING, false, MG_OP_OTHER_LOCK,
		"A lock that blocks reads or writes of an existing table is taken with no lock timeout in effect.",
	queues_without_timeout, NULL, describe_lock_timeout},
	[MG_RULE_STRONG_LOCK_HELD] = {"strong_lock_held", "queue", MG_LEVEL_WARNING, true, MG_OP_OTHER_LOCK,
		"A later statement runs while this transaction holds a lock that blocks writes (SHARE, SHARE ROW EXCLUSIVE, EXCLUSIVE) or reads and writes (ACCESS EXCLUSIVE) of a large table.",
	held_since_earlier_statement, NULL, describe_strong_lock_held},
	[MG_RULE_INVALID_INDEX] = {"invalid_index", "hygiene", MG_LEVEL_WARNING, false, MG_OP_CREATE_INDEX,
		"CREATE INDEX [CONCURRENTLY] IF NOT EXISTS names an existing INVALID index.",
	index_exists_invalid, NULL, describe_invalid_index},
	[MG_RULE_NOT_NULL_WITHOUT_DEFAULT] = {"not_null_without_default", "compatibility", MG_LEVEL_ERROR, false, MG_OP_NOT_NULL_NO_DEFAULT,
		"ALTER COLUMN ... DROP DEFAULT on a NOT NULL column of an existing table (old or added in this transaction), or SET NOT NULL on a column without a default: deployed inserts that omit it fail.",
	always, NULL, describe_not_null_without_default},
	[MG_RULE_DML_UNDER_LOCK] = {"dml_under_lock", "queue", MG_LEVEL_WARNING, true, MG_OP_DML_UNDER_LOCK,
		"UPDATE, DELETE, INSERT ... SELECT or MERGE runs while this transaction holds a lock that blocks reads or writes of a large table.",
	always, NULL, describe_dml_under_lock},
	[MG_RULE_FK_WITHOUT_INDEX] = {"fk_without_index", "hygiene", MG_LEVEL_WARNING, false, MG_OP_ADD_CONSTRAINT,
		"A foreign key is added whose referencing columns have no index that starts with them.",
	fk_unindexed, NULL, describe_fk_without_index},
	[MG_RULE_RENAME_ENUM_VALUE] = {"rename_enum_value", "compatibility", MG_LEVEL_ERROR, false, MG_OP_RENAME_ENUM_VALUE,
		"ALTER TYPE ... RENAME VALUE of an enum used by an existing table.",
	always, NULL, describe_rename_enum_value},
};

/* The levels of migguard.rules (policy.c parses them), or NULL. */
static const MigguardRuleLevels *rule_levels = NULL;

static const char *const level_names[] = {"off", "warning", "error"};

const char *
migguard_level_name(MigguardLevel level)
{
	return level_names[level];
}

/* Level by name, or -1. */
int
migguard_level_lookup(const char *name)
{
	for (int i = 0; i < (int) lengthof(level_names); i++)
		if (pg_strcasecmp(level_names[i], name) == 0)
			return i;
	return -1;
}

/* migguard.rules' assign hook (policy.c) hands over its parsed value. */
void
migguard_set_rule_levels(const MigguardRuleLevels *levels)
{
	rule_levels = levels;
}

/* The level in effect for a rule whose default (for this op) is dflt. */
MigguardLevel
migguard_rule_level(MigguardRuleId rule, MigguardLevel dflt)
{
	if (rule_levels != NULL && rule_levels->level[rule] >= 0)
		return (MigguardLevel) rule_levels->level[rule];
	return dflt;
}

const char *
migguard_rule_name(MigguardRuleId rule)
{
	return rule_catalog[rule].name;
}

/* Rule id by name, or -1. */
int
migguard_rule_lookup(const char *name)
{
	for (int i = 0; i < MG_NUM_RULES; i++)
		if (pg_strcasecmp(rule_catalog[i].name, name) == 0)
			return i;
	return -1;
}

/* "create_index, drop_index, ..." for error messages. */
const char *
migguard_rule_names_list(void)
{
	static char *list = NULL;

	if (list == NULL)
	{
		StringInfoData buf;

		initStringInfo(&buf);
		for (int i = 0; i < MG_NUM_RULES; i++)
			appendStringInfo(&buf, "%s%s", i ? ", " : "", rule_catalog[i].name);
		list = MemoryContextStrdup(TopMemoryContext, buf.data);
		pfree(buf.data);
	}
	return list;
}

bool
migguard_relation_is_large(const MigguardRelation *rel)
{
	return migguard_relation_bytes(rel) >= (int64) migguard_large_table_size_kb * 1024;
}

/*
 * Facts -> findings, in statement order and catalog order.  The levels are
 * the ones in effect (migguard.rules applied); rules at level off are left
 * out.
 */
List *
migguard_evaluate(MigguardStatement *stmt)
{
	List	   *findings = NIL;
	ListCell   *lc;

	foreach(lc, stmt->ops)
	{
		MigguardOp *op = (MigguardOp *) lfirst(lc);

		if (migguard_relation_is_exempt(op->rel))
			continue;

		for (int i = 0; i < MG_NUM_RULES; i++)
		{
			const RuleDef *rule = &rule_catalog[i];
			MigguardFinding *finding;
			MigguardLevel level;

			if (rule->op != op->kind || rule->fires == NULL)
				continue;
			level = migguard_rule_level((MigguardRuleId) i,
										rule->default_for ?
										rule->default_for(op) :
										rule->default_level);
			if (level == MG_LEVEL_OFF || !rule->fires(stmt, op))
				continue;
			/* Last: measuring a partitioned table is the expensive part. */
			if (rule->size_gated && !migguard_relation_is_large(op->rel))
				continue;

			finding = palloc0(sizeof(MigguardFinding));
			finding->rule = (MigguardRuleId) i;
			finding->level = level;
			finding->op = op;
			rule->describe(stmt, op, finding);
			findings = lappend(findings, finding);
		}
	}
	return findings;
}

/*
 * migguard.rules(): the catalog and the levels in effect for this session.
 */
PG_FUNCTION_INFO_V1(migguard_rules);

Datum
migguard_rules(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	mg_init_materialized_srf(fcinfo);
	for (int i = 0; i < MG_NUM_RULES; i++)
	{
		const RuleDef *rule = &rule_catalog[i];
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};
		MigguardLevel level = migguard_rule_level((MigguardRuleId) i,
												  rule->default_level);

		values[0] = CStringGetTextDatum(rule->name);
		values[1] = CStringGetTextDatum(rule->category);
		values[2] = CStringGetTextDatum(migguard_level_name(rule->default_level));
		values[3] = CStringGetTextDatum(migguard_level_name(level));
		values[4] = CStringGetTextDatum(rule->description);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * Whether the rule judges a rewrite of its relation: the catalog's category
 * "rewrite".  The table_rewrite event (event_triggers.c) confirms what such
 * a finding decided instead of judging the same rewrite again.
 */
bool
migguard_rule_rewrites(MigguardRuleId rule)
{
	return strcmp(rule_catalog[rule].category, "rewrite") == 0;
}
