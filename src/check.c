/*-------------------------------------------------------------------------
 *
 * check.c
 *		migguard.check(sql text): lint a migration against the live catalog
 *		without executing it.
 *
 * Every statement of the script is parsed with PostgreSQL's raw parser and
 * judged by the very classify and rules code the hook uses, as a dry run:
 * nothing executes, no lock stronger than ACCESS SHARE is taken (so it is
 * safe on a busy primary and works on a read-only hot standby), and tables
 * created earlier in the script count as new.  A statement that does not
 * parse yields one syntax_error row and the others are still judged.
 *
 *-------------------------------------------------------------------------
 */
#include "migguard.h"

#include "access/xact.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "parser/scanner.h"
#include "storage/lock.h"
#include "utils/builtins.h"
#include "utils/resowner.h"

#define CHECK_COLUMNS 11

/* One statement of the script, parsed or not. */
typedef struct ScriptStatement
{
	int			offset;			/* where its text starts in the script */
	int			len;			/* its length (0: to the end) */
	Node	   *parsetree;		/* NULL when it did not parse */
	char	   *error;			/* the parser's message, when it did not */
} ScriptStatement;

typedef struct CheckOutput
{
	ReturnSetInfo *rsinfo;
	const char *sql;
	/* Where the last position was computed: statements come in order. */
	int			pos_offset;
	int			pos_line;
	int			pos_line_start;
} CheckOutput;

/*
 * Run fn(arg) in a subtransaction.  On error, roll it back and return the
 * error message; otherwise NULL.  Parse and analysis errors of one
 * statement must not lose the rest of the script.
 */
static char *
run_guarded(void (*fn) (void *), void *arg)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	char	   *volatile error = NULL;

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
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
		error = edata->message;
	}
	PG_END_TRY();
	return error;
}

typedef struct ParseArgs
{
	const char *text;
	List	   *result;
} ParseArgs;

static void
parse_text(void *arg)
{
	ParseArgs  *args = (ParseArgs *) arg;

	args->result = mg_raw_parser(args->text);
}

/* Offsets of the top-level semicolons, found with the core scanner. */
static void
find_semicolons(void *arg)
{
	ParseArgs  *args = (ParseArgs *) arg;
	core_yy_extra_type yyextra;
	core_yyscan_t scanner;
	core_YYSTYPE yylval;
	YYLTYPE		yylloc;
	int			tok;

	scanner = scanner_init(args->text, &yyextra, &ScanKeywords, ScanKeywordTokens);
	while ((tok = core_yylex(&yylval, &yylloc, scanner)) != 0)
		if (tok == ';')
			args->result = lappend_int(args->result, yylloc);
	scanner_finish(scanner);
}

static void
add_parsed(List **statements, List *raw, int base, int piece_len)
{
	ListCell   *lc;

	foreach(lc, raw)
	{
		RawStmt    *rs = lfirst_node(RawStmt, lc);
		ScriptStatement *s = palloc0(sizeof(ScriptStatement));

		s->offset = base + rs->stmt_location;
		s->len = rs->stmt_len;
		/* The last statement of a piece ends with the piece, not the script. */
		if (s->len == 0 && piece_len > 0)
			s->len = piece_len - rs->stmt_location;
		s->parsetree = rs->stmt;
		*statements = lappend(*statements, s);
	}
}

/*
 * The script's statements.  The whole script is parsed at once when it can
 * be (the only way that is right for BEGIN ATOMIC bodies); otherwise it is
 * cut at its top-level semicolons and each piece parsed alone, so one
 * syntax error costs one statement.
 */
static List *
parse_script(const char *sql)
{
	ParseArgs	args = {sql, NIL};
	List	   *statements = NIL;
	List	   *cuts;
	ListCell   *lc;
	int			start = 0;

	if (run_guarded(parse_text, &args) == NULL)
	{
		add_parsed(&statements, args.result, 0, 0);
		return statements;
	}

	args.result = NIL;
	if (run_guarded(find_semicolons, &args) != NULL)
		args.result = NIL;		/* unterminated quote: one piece */
	cuts = lappend_int(args.result, strlen(sql));

	foreach(lc, cuts)
	{
		int			end = lfirst_int(lc);
		ParseArgs	piece = {pnstrdup(sql + start, end - start), NIL};
		char	   *error = run_guarded(parse_text, &piece);

		if (error == NULL)
			add_parsed(&statements, piece.result, start, end - start);
		else
		{
			ScriptStatement *s = palloc0(sizeof(ScriptStatement));

			s->offset = start;
			s->len = end - start;
			s->error = error;
			statements = lappend(statements, s);
		}
		start = end + 1;
	}
	return statements;
}

/*
 * 1-based line and column (in characters) of a byte offset.  Rows come in
 * statement order, so the scan resumes where the previous one stopped: a
 * 10,000-statement script is read once, not once per finding.
 */
static void
line_and_column(CheckOutput *out, int offset, int *line, int *col)
{
	const char *sql = out->sql;

	if (offset < out->pos_offset)
	{
		out->pos_offset = 0;
		out->pos_line = 1;
		out->pos_line_start = 0;
	}
	for (int i = out->pos_offset; i < offset; i++)
		if (sql[i] == '\n')
		{
			out->pos_line++;
			out->pos_line_start = i + 1;
		}
	out->pos_offset = offset;
	*line = out->pos_line;
	*col = pg_mbstrlen_with_len(sql + out->pos_line_start,
								offset - out->pos_line_start) + 1;
}

static void
emit_row(CheckOutput *out, int statement_no, ScriptStatement *s,
		 const char *text, const char *rule, const char *level,
		 const MigguardOp *op, const char *message, const char *hint)
{
	Datum		values[CHECK_COLUMNS];
	bool		nulls[CHECK_COLUMNS];
	int			line;
	int			col;

	memset(nulls, 0, sizeof(nulls));
	line_and_column(out,
					migguard_statement_offset(out->sql, s->offset, s->len),
					&line, &col);

	values[0] = Int32GetDatum(statement_no);
	values[1] = CStringGetTextDatum(text);
	values[2] = CStringGetTextDatum(rule);
	values[3] = CStringGetTextDatum(level);
	if (op != NULL && op->lockmode != NoLock)
		values[4] = CStringGetTextDatum(GetLockmodeName(DEFAULT_LOCKMETHOD,
														op->lockmode));
	else
		nulls[4] = true;
	if (op != NULL && op->rel != NULL)
	{
		values[5] = CStringGetTextDatum(op->rel->schema ?
										psprintf("%s.%s", op->rel->schema, op->rel->name) :
										op->rel->name);
		values[6] = Int64GetDatum(migguard_relation_bytes(op->rel));
		nulls[6] = !OidIsValid(op->rel->relid);
	}
	else
		nulls[5] = nulls[6] = true;
	values[7] = CStringGetTextDatum(message);
	if (hint)
		values[8] = CStringGetTextDatum(hint);
	else
		nulls[8] = true;
	values[9] = Int32GetDatum(line);
	values[10] = Int32GetDatum(col);
	tuplestore_putvalues(out->rsinfo->setResult, out->rsinfo->setDesc,
						 values, nulls);
}

typedef struct JudgeArgs
{
	Node	   *parsetree;
	const char *text;
	List	   *findings;
} JudgeArgs;

/* The hook's pipeline up to the verdict, without acting on it. */
static void
judge_statement(void *arg)
{
	JudgeArgs  *args = (JudgeArgs *) arg;

	args->findings = migguard_evaluate(migguard_classify(args->parsetree,
														 args->text));
}

/* Remember what the script creates, so later statements see it as new. */
static void
note_created_relation(Node *parsetree)
{
	RangeVar   *rv = NULL;

	if (IsA(parsetree, CreateStmt))
		rv = ((CreateStmt *) parsetree)->relation;
	else if (IsA(parsetree, CreateTableAsStmt))
		rv = ((CreateTableAsStmt *) parsetree)->into->rel;
	if (rv != NULL)
		migguard_script_relations = lappend(migguard_script_relations,
											copyObject(rv));
}

static void
check_script(CheckOutput *out)
{
	List	   *statements = parse_script(out->sql);
	ListCell   *lc;
	int			statement_no = 0;

	foreach(lc, statements)
	{
		ScriptStatement *s = (ScriptStatement *) lfirst(lc);
		char	   *text = migguard_statement_text(out->sql, s->offset, s->len);
		JudgeArgs	args = {s->parsetree, text, NIL};
		char	   *error;
		ListCell   *fc;

		statement_no++;
		if (s->parsetree == NULL)
		{
			emit_row(out, statement_no, s, text, "syntax_error", "error",
					 NULL, s->error, NULL);
			continue;
		}
		if (migguard_is_checked_statement(s->parsetree))
		{
			error = run_guarded(judge_statement, &args);
			if (error != NULL)
				emit_row(out, statement_no, s, text, "analysis_error",
						 "warning", NULL, error, NULL);
			foreach(fc, args.findings)
			{
				MigguardFinding *f = (MigguardFinding *) lfirst(fc);

				emit_row(out, statement_no, s, text,
						 migguard_rule_name(f->rule),
						 migguard_level_name(f->level), f->op,
						 f->message, f->hint);
			}
		}
		note_created_relation(s->parsetree);
	}
}

PG_FUNCTION_INFO_V1(migguard_check);

Datum
migguard_check(PG_FUNCTION_ARGS)
{
	CheckOutput out;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("migguard.check() needs the text of a migration, not NULL")));

	mg_init_materialized_srf(fcinfo);
	out.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	out.sql = text_to_cstring(PG_GETARG_TEXT_PP(0));
	out.pos_offset = 0;
	out.pos_line = 1;
	out.pos_line_start = 0;

	migguard_dry_run = true;
	migguard_script_relations = NIL;
	PG_TRY();
	{
		check_script(&out);
	}
	PG_FINALLY();
	{
		migguard_dry_run = false;
		migguard_script_relations = NIL;
	}
	PG_END_TRY();

	return (Datum) 0;
}
