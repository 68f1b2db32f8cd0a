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
 * The script is cut at its statement-ending semicolons by the core scanner
 * and each statement is parsed, judged and emitted in a memory context
 * reset before the next, so memory does not grow with the script.  What
 * the caller could not name is not reported by name (relsize.c), and a
 * statement PostgreSQL would refuse for lack of a privilege yields one
 * permission_denied row.
 *
 *-------------------------------------------------------------------------
 */
#include "migguard.h"
#include "judge.h"
#include "classify.h"
#include "hazards.h"
#include "relsize.h"
#include "rules.h"
#include "sqltext.h"
#include "subxact.h"

#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "parser/scanner.h"
#include "storage/lock.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

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
	MemoryContext script_context;	/* lives as long as the call */
	const char *sql;
	/* Where the last position was computed: statements come in order. */
	int			pos_offset;
	int			pos_line;
	int			pos_line_start;
	MigguardStatement *last_stmt;	/* the last statement judged, or NULL */
	MigguardAnalysis analysis;	/* a dry run, and what the script created */
} CheckOutput;

/*
 * Parse and analysis errors of one statement must not lose the rest of the
 * script: each runs in a subtransaction (classify.c).
 */
#define run_guarded(fn, arg) migguard_run_in_subtransaction((fn), (arg))

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

static int
keyword_token(const char *keyword)
{
	return ScanKeywordTokens[ScanKeywordLookup(keyword, &ScanKeywords)];
}

/*
 * Offsets of the semicolons that end statements, found with the core
 * scanner: those outside parentheses (CREATE RULE ... DO (a; b)) and
 * outside a BEGIN ATOMIC body, where CASE ... END nests, as psql's lexer
 * counts them (psqlscan.l, begin_depth).
 */
static void
find_semicolons(void *arg)
{
	ParseArgs  *args = (ParseArgs *) arg;
	core_yy_extra_type yyextra;
	core_yyscan_t scanner;
	core_YYSTYPE yylval;
	YYLTYPE		yylloc;
	int			tok;
	int			prev = 0;
	int			parens = 0;
	int			begins = 0;
	int			begin_tok = keyword_token("begin");
	int			atomic_tok = keyword_token("atomic");
	int			case_tok = keyword_token("case");
	int			end_tok = keyword_token("end");

	MemoryContext scan_context = CurrentMemoryContext;
	MemoryContext token_context;
	int			tokens = 0;

	/*
	 * The scanner copies every identifier into the current context: lex in
	 * a context reset every few thousand tokens (nothing of a token is kept
	 * but the offset of a semicolon).
	 */
	token_context = AllocSetContextCreate(scan_context, "migguard check tokens",
										  ALLOCSET_DEFAULT_SIZES);
	scanner = scanner_init(args->text, &yyextra, &ScanKeywords, ScanKeywordTokens);
	for (;;)
	{
		MemoryContextSwitchTo(token_context);
		tok = core_yylex(&yylval, &yylloc, scanner);
		MemoryContextSwitchTo(scan_context);
		if (tok == 0)
			break;
		if (++tokens % 4096 == 0)
			MemoryContextReset(token_context);
		if (tok == '(')
			parens++;
		else if (tok == ')' && parens > 0)
			parens--;
		else if (tok == atomic_tok && prev == begin_tok)
			begins++;
		else if (tok == case_tok && begins > 0)
			begins++;
		else if (tok == end_tok && begins > 0)
			begins--;
		else if (tok == ';' && parens == 0 && begins == 0)
			args->result = lappend_int(args->result, yylloc);
		prev = tok;
	}
	scanner_finish(scanner);
	MemoryContextDelete(token_context);
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
	MigguardAnalysis *cx;
	Node	   *parsetree;
	const char *text;
	MigguardStatement *stmt;
	List	   *findings;
} JudgeArgs;

/*
 * The hook's judgement, as a dry run: findings, no verdict, nothing acted
 * on (judge.c).
 */
static void
judge_statement(void *arg)
{
	JudgeArgs  *args = (JudgeArgs *) arg;

	(void) migguard_judge(args->cx, args->parsetree, args->text,
						  &args->stmt, &args->findings);
}

/* Remember what the script creates, so later statements see it as new. */
static void
note_created_relation(MigguardAnalysis *cx, Node *parsetree)
{
	RangeVar   *rv = NULL;

	if (IsA(parsetree, CreateStmt))
		rv = ((CreateStmt *) parsetree)->relation;
	else if (IsA(parsetree, CreateTableAsStmt))
		rv = ((CreateTableAsStmt *) parsetree)->into->rel;
	if (rv != NULL)
		cx->script_relations = lappend(cx->script_relations, copyObject(rv));
}

/*
 * A DO block's body is code: which statements it runs only running it can
 * tell (EXECUTE builds them, IF picks them), and check() executes nothing.
 * So it says so in a row of its own instead of passing the block silently.
 * The live hook sees each statement of the block when it runs (nested):
 * judged, bounded by the lock timeout and recorded like any other.
 */
static void
emit_not_analysed(CheckOutput *out, int statement_no, ScriptStatement *s,
				  const char *text)
{
	emit_row(out, statement_no, s, text, "not_analysed", "warning", NULL,
			 "check() does not analyse the body of a DO block: the statements it runs are judged, bounded by the lock timeout and recorded only when it runs",
			 "Write the DDL as plain statements to have check() judge it.");
}

/*
 * Judge one statement of the script and emit its rows.  A statement that
 * PostgreSQL would refuse for lack of a privilege gets one row that names
 * nothing it reaches.
 */
static void
check_statement(CheckOutput *out, int statement_no, ScriptStatement *s)
{
	char	   *text = migguard_statement_text(out->sql, s->offset, s->len);
	JudgeArgs	args = {&out->analysis, s->parsetree, text, NULL, NIL};
	char	   *error;
	ListCell   *fc;

	out->last_stmt = NULL;
	if (s->parsetree == NULL)
	{
		emit_row(out, statement_no, s, text, "syntax_error", "error",
				 NULL, s->error, NULL);
		return;
	}
	if (IsA(s->parsetree, DoStmt))
	{
		emit_not_analysed(out, statement_no, s, text);
		return;
	}
	if (!migguard_is_checked_statement(s->parsetree))
		return;
	error = run_guarded(judge_statement, &args);
	if (error == NULL)
		out->last_stmt = args.stmt;
	if (error != NULL)
		emit_row(out, statement_no, s, text, "analysis_error",
				 "warning", NULL, error, NULL);
	else if (args.stmt->refused)
		emit_row(out, statement_no, s, text, "permission_denied", "error",
				 NULL, "PostgreSQL would refuse this statement: the current role lacks a privilege it needs on a relation the statement reaches",
				 NULL);
	foreach(fc, args.findings)
	{
		MigguardFinding *f = (MigguardFinding *) lfirst(fc);

		emit_row(out, statement_no, s, text,
				 migguard_rule_name(f->rule),
				 migguard_level_name(f->level), f->op,
				 f->message, f->hint);
	}
}

/* How many statements are parsed at once, in one subtransaction. */
#define CHECK_BATCH 64

/*
 * Parse sql[start, end) and judge each of its statements.  A text that
 * does not parse gives one syntax_error row when report_error; otherwise
 * false, and nothing is emitted (the caller parses it piece by piece).
 */
static bool
check_text(CheckOutput *out, int start, int end, int *statement_no,
		   bool report_error)
{
	MemoryContext script_context = CurrentMemoryContext;
	ParseArgs	piece;
	char	   *error;
	ListCell   *rc;

	piece.text = pnstrdup(out->sql + start, end - start);
	piece.result = NIL;
	error = run_guarded(parse_text, &piece);
	if (error != NULL)
	{
		ScriptStatement s = {start, end - start, NULL, error};

		if (!report_error)
			return false;
		check_statement(out, ++*statement_no, &s);
		return true;
	}
	foreach(rc, piece.result)
	{
		RawStmt    *rs = lfirst_node(RawStmt, rc);
		ScriptStatement s;

		s.offset = start + rs->stmt_location;
		/* The last statement of a piece ends with the piece. */
		s.len = rs->stmt_len > 0 ? rs->stmt_len :
			end - start - rs->stmt_location;
		s.parsetree = rs->stmt;
		s.error = NULL;
		check_statement(out, ++*statement_no, &s);
		/* What the script creates outlives the statement. */
		MemoryContextSwitchTo(out->script_context);
		note_created_relation(&out->analysis, rs->stmt);
		MemoryContextSwitchTo(script_context);
		migguard_script_note(&out->analysis, out->script_context, rs->stmt,
							 out->last_stmt);
	}
	return true;
}

/*
 * The script is cut at the semicolons that end its statements, and its
 * statements are parsed and judged a batch at a time in a memory context
 * reset after each batch: memory stays flat however long the script (only
 * the cut offsets are kept).  A batch that does not parse is parsed again
 * statement by statement, so one syntax error costs one statement.  Rows
 * go to the tuplestore, which copies them into its own context.
 */
static void
check_script(CheckOutput *out)
{
	MemoryContext statement_context;
	ParseArgs	args = {out->sql, NIL};
	List	   *cuts;
	int			ncuts;
	int			start = 0;
	int			statement_no = 0;

	out->script_context = CurrentMemoryContext;
	statement_context = AllocSetContextCreate(out->script_context,
											  "migguard check statement",
											  ALLOCSET_DEFAULT_SIZES);

	/*
	 * The scanner allocates a copy of every identifier it meets: scan in a
	 * context of its own and keep only the offsets.
	 */
	MemoryContextSwitchTo(statement_context);
	if (run_guarded(find_semicolons, &args) != NULL)
		args.result = NIL;		/* unterminated quote: one piece */
	MemoryContextSwitchTo(out->script_context);
	cuts = lappend_int(list_copy(args.result), strlen(out->sql));
	ncuts = list_length(cuts);
	MemoryContextReset(statement_context);

	for (int first = 0; first < ncuts; first += CHECK_BATCH)
	{
		int			last = Min(first + CHECK_BATCH, ncuts) - 1;
		int			batch_end = list_nth_int(cuts, last);

		MemoryContextSwitchTo(statement_context);
		if (!check_text(out, start, batch_end, &statement_no, first == last))
		{
			for (int i = first; i <= last; i++)
			{
				int			end = list_nth_int(cuts, i);

				check_text(out, start, end, &statement_no, true);
				start = end + 1;
			}
		}
		MemoryContextSwitchTo(out->script_context);
		MemoryContextReset(statement_context);
		start = batch_end + 1;
	}
	MemoryContextDelete(statement_context);
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
	out.last_stmt = NULL;
	/* What the script does lives in this call's memory, with the script. */
	memset(&out.analysis, 0, sizeof(out.analysis));
	out.analysis.dry_run = true;

	check_script(&out);

	return (Datum) 0;
}
