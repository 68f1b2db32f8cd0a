/*-------------------------------------------------------------------------
 *
 * sqltext.c
 *		Text helpers for messages and hints: this statement's own text out
 *		of a multi-statement string, the safe form of a statement with one
 *		keyword added (found with PostgreSQL's own scanner, so comments and
 *		quoted names never confuse it), human-readable sizes and names.
 *
 * The words of messages (sizes, relation names, lock modes and what they
 * block) stay here with the quoting: rules.c, check.c, audit.c and the lock
 * guard all use them, and a module of their own would hold four functions.
 *
 *-------------------------------------------------------------------------
 */
#include "migguard.h"
#include "relsize.h"
#include "sqltext.h"

#include "parser/scanner.h"
#include "utils/builtins.h"

/* Skip white space and comments; return the first real character. */
static const char *
skip_space_and_comments(const char *p, const char *end)
{
	while (p < end)
	{
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f')
			p++;
		else if (p + 1 < end && p[0] == '-' && p[1] == '-')
		{
			while (p < end && *p != '\n')
				p++;
		}
		else if (p + 1 < end && p[0] == '/' && p[1] == '*')
		{
			int			depth = 1;

			p += 2;
			while (p < end && depth > 0)
			{
				if (p + 1 < end && p[0] == '/' && p[1] == '*')
					depth++, p += 2;
				else if (p + 1 < end && p[0] == '*' && p[1] == '/')
					depth--, p += 2;
				else
					p++;
			}
		}
		else
			break;
	}
	return p;
}

/*
 * Offset in queryString of the first real character of the statement at
 * location/len: the raw parser's locations include the white space and
 * comments that precede a statement.
 */
int
migguard_statement_offset(const char *queryString, int location, int len)
{
	const char *start = queryString + (location < 0 ? 0 : location);
	const char *end = (location >= 0 && len > 0) ? start + len :
		start + strlen(start);

	return skip_space_and_comments(start, end) - queryString;
}

/*
 * The text of one statement of a (possibly multi-statement) query string,
 * without leading white space and comments and without the trailing
 * semicolon.  location/len are PlannedStmt's stmt_location/stmt_len.
 */
char *
migguard_statement_text(const char *queryString, int location, int len)
{
	const char *start;
	const char *end;

	if (queryString == NULL)
		return pstrdup("");
	if (location < 0)
	{
		location = 0;
		len = 0;
	}
	start = queryString + location;
	end = len > 0 ? start + len : start + strlen(start);
	start = queryString + migguard_statement_offset(queryString, location, len);
	while (end > start && (end[-1] == ';' || end[-1] == ' ' || end[-1] == '\n' ||
						   end[-1] == '\t' || end[-1] == '\r'))
		end--;
	return pnstrdup(start, end - start);
}

/* Offset of the first occurrence of keyword in stmt as a token, or -1. */
static int
keyword_offset(const char *stmt, const char *keyword, int *token_after)
{
	core_yy_extra_type yyextra;
	core_yyscan_t scanner;
	core_YYSTYPE yylval;
	YYLTYPE		yylloc;
	int			kwnum = ScanKeywordLookup(keyword, &ScanKeywords);
	int			target;
	int			result = -1;

	if (kwnum < 0)
		return -1;
	target = ScanKeywordTokens[kwnum];

	scanner = scanner_init(stmt, &yyextra, &ScanKeywords, ScanKeywordTokens);
	for (;;)
	{
		int			tok = core_yylex(&yylval, &yylloc, scanner);

		if (tok == 0)
			break;
		if (result >= 0 && token_after != NULL && tok == *token_after)
		{
			*token_after = yylloc;
			break;
		}
		if (result < 0 && tok == target)
		{
			result = yylloc;
			if (token_after == NULL)
				break;
		}
	}
	scanner_finish(scanner);
	return result;
}

/*
 * stmt with insert placed after the first keyword token after_keyword, and
 * a semicolon: "CREATE INDEX i ON t (c)" -> "CREATE INDEX CONCURRENTLY i ON
 * t (c);".  Without the keyword, stmt unchanged.
 */
char *
migguard_insert_keyword(const char *stmt, const char *after_keyword,
						const char *insert)
{
	int			at = keyword_offset(stmt, after_keyword, NULL);

	if (at < 0)
		return psprintf("%s;", stmt);
	at += strlen(after_keyword);
	return psprintf("%.*s %s%s;", at, stmt, insert, stmt + at);
}

/*
 * The text from the first token ch after keyword to the end: for "CREATE
 * INDEX i ON t (a, b) WHERE x" with ("on", '(') that is "(a, b) WHERE x".
 */
char *
migguard_text_after_keyword(const char *stmt, const char *keyword, int ch)
{
	int			at = ch;

	if (keyword_offset(stmt, keyword, &at) < 0 || at == ch)
		return NULL;
	return pstrdup(stmt + at);
}

char *
migguard_append_before_semicolon(const char *stmt, const char *suffix)
{
	return psprintf("%s%s;", stmt, suffix);
}

/* "512 bytes", "64 kB", "1.2 GB" */
char *
migguard_pretty_size(int64 bytes)
{
	static const char *const units[] = {"kB", "MB", "GB", "TB", "PB"};
	double		value = (double) bytes;
	int			unit = -1;

	if (bytes < 1024)
		return psprintf(INT64_FORMAT " bytes", bytes);
	while (value >= 1024.0 && unit < (int) lengthof(units) - 1)
	{
		value /= 1024.0;
		unit++;
	}
	if (value < 9.95)
		return psprintf("%.1f %s", value, units[unit]);
	return psprintf("%.0f %s", value, units[unit]);
}

/* '"public.accounts"': the relation as messages name it. */
char *
migguard_display_name(const MigguardRelation *rel)
{
	/* check() does not name what its caller may not see (relsize.c). */
	if (!OidIsValid(rel->relid) && strcmp(rel->name, MIGGUARD_HIDDEN_RELATION) == 0)
		return pstrdup(rel->name);
	if (rel->schema)
		return psprintf("\"%s.%s\"", rel->schema, rel->name);
	return psprintf("\"%s\"", rel->name);
}

static bool
has_control_character(const char *str)
{
	for (const char *c = str; *c; c++)
		if ((unsigned char) *c < 0x20 || *c == 0x7f)
			return true;
	return false;
}

/*
 * str as a Unicode-escaped identifier (quote '"') or string (quote '\''):
 * U&"line\000Abreak".  Valid with standard_conforming_strings on, the
 * default since PostgreSQL 9.1.
 */
static char *
unicode_escaped(const char *str, char quote)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "U&%c", quote);
	for (const char *c = str; *c; c++)
	{
		if ((unsigned char) *c < 0x20 || *c == 0x7f)
			appendStringInfo(&buf, "\\%04X", (unsigned char) *c);
		else
		{
			if (*c == quote || *c == '\\')
				appendStringInfoChar(&buf, *c);
			appendStringInfoChar(&buf, *c);
		}
	}
	appendStringInfoChar(&buf, quote);
	return buf.data;
}

/*
 * An identifier for a hint line: quote_identifier, except that a name with
 * a control character (a newline, a tab) becomes a Unicode-escaped
 * identifier, so that every statement of a hint stays on one line and
 * pasting it runs exactly that statement.
 */
const char *
migguard_quote_ident(const char *ident)
{
	return has_control_character(ident) ? unicode_escaped(ident, '"') :
		quote_identifier(ident);
}

/* schema.name, each part quoted by migguard_quote_ident. */
char *
migguard_quote_qualified(const char *schema, const char *name)
{
	if (schema == NULL)
		return pstrdup(migguard_quote_ident(name));
	return psprintf("%s.%s", migguard_quote_ident(schema),
					migguard_quote_ident(name));
}

/* A string literal for a hint line: quote_literal_cstr, or U&'...'. */
char *
migguard_quote_literal(const char *str)
{
	return has_control_character(str) ? unicode_escaped(str, '\'') :
		quote_literal_cstr(str);
}

/* public.accounts, quoted as SQL needs: for hints the user can paste. */
char *
migguard_sql_name(const MigguardRelation *rel)
{
	return migguard_quote_qualified(rel->schema, rel->name);
}

const char *
migguard_lock_mode_sql(LOCKMODE mode)
{
	static const char *const names[] = {
		"no", "ACCESS SHARE", "ROW SHARE", "ROW EXCLUSIVE",
		"SHARE UPDATE EXCLUSIVE", "SHARE", "SHARE ROW EXCLUSIVE",
		"EXCLUSIVE", "ACCESS EXCLUSIVE"
	};

	if (mode < 0 || mode >= (int) lengthof(names))
		return "unknown";
	return names[mode];
}

/* What application traffic a table lock of this mode blocks. */
const char *
migguard_lock_blocks(LOCKMODE mode)
{
	if (mode >= AccessExclusiveLock)
		return "blocks every read and write of the table";
	if (mode >= ShareLock)
		return "blocks INSERT, UPDATE and DELETE";
	if (mode == ShareUpdateExclusiveLock)
		return "blocks other schema changes and VACUUM, but not reads or writes";
	return "blocks only schema changes";
}
