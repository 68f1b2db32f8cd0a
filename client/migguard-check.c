/*-------------------------------------------------------------------------
 *
 * migguard-check.c
 *	  Command-line linter: sends migration files to migguard.check() on a
 *	  live server and reports the findings the way compilers do.
 *
 * This file owns the client side of linting and nothing else: option
 * parsing, the libpq connection, reading files, formatting findings (text
 * or JSON) and the exit status.  Every judgement about a statement is made
 * by the server's migguard.check(), which shares the hook's classify and
 * rules code: the linter has no opinion of its own to drift from the guard.
 *
 * Each FILE is read whole and sent as one text parameter; the server splits
 * it into statements.  Findings go to standard output, diagnostics and the
 * summary to standard error.  The exit status is the worst outcome seen:
 *
 *	0  no findings
 *	1  warnings only
 *	2  at least one error-level finding (syntax errors included)
 *	3  usage error, unreadable file, connection or query failure
 *
 * A file that cannot be read or checked is reported and the remaining files
 * are still checked, except when the extension is missing or the connection
 * is lost: then every later file would fail the same way, so we stop.
 *
 * IDENTIFICATION
 *	  client/migguard-check.c
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libpq-fe.h"

#define PROGNAME "migguard-check"
#define MIGGUARD_CHECK_VERSION "1.0"

/* pg_type.oid of text; client code must not include server headers. */
#define TEXT_TYPE_OID 25

/* Display name of standard input, as compilers spell it. */
#define STDIN_NAME "<stdin>"

/* Exit statuses, ordered so that the worst outcome seen wins. */
typedef enum ExitStatus
{
	MGC_EXIT_CLEAN = 0,
	MGC_EXIT_WARNINGS = 1,
	MGC_EXIT_ERRORS = 2,
	MGC_EXIT_FAILURE = 3
} ExitStatus;

typedef enum OutputFormat
{
	FORMAT_TEXT,
	FORMAT_JSON
} OutputFormat;

/* Command-line options: the only state that lives for the whole run. */
typedef struct Options
{
	const char *dbname;			/* a database name or a conninfo string */
	const char *host;
	const char *port;
	const char *username;
	OutputFormat format;
	bool		quiet;			/* suppress hints */
	char	  **files;
	int			nfiles;
} Options;

/* Outcome of option parsing. */
typedef enum ParseResult
{
	PARSE_RUN,					/* options are fine: check the files */
	PARSE_DONE,					/* --help or --version was printed */
	PARSE_USAGE_ERROR
} ParseResult;

/* Outcome of checking one file. */
typedef enum CheckResult
{
	CHECK_DONE,					/* findings (if any) were reported */
	CHECK_FAILED,				/* this file could not be checked */
	CHECK_FATAL					/* no later file can be checked either */
} CheckResult;

/* What has been reported so far; owned by main() and passed down. */
typedef struct Report
{
	OutputFormat format;
	bool		quiet;
	long		nerrors;
	long		nwarnings;
	long		nfindings;		/* JSON: objects written, for the commas */
	int			nfiles_checked;
	bool		failed;			/* something could not be checked */
} Report;

/* The server contract, and the positions of its columns in a result. */
#define CHECK_QUERY \
	"SELECT statement_no, statement, rule, level, lock_mode, relation, " \
	"table_size, message, hint, line, col FROM migguard.check($1)"

typedef enum CheckColumn
{
	COL_STATEMENT_NO,
	COL_STATEMENT,
	COL_RULE,
	COL_LEVEL,
	COL_LOCK_MODE,
	COL_RELATION,
	COL_TABLE_SIZE,
	COL_MESSAGE,
	COL_HINT,
	COL_LINE,
	COL_COL
} CheckColumn;

/* Keys of a JSON finding after "file", in output order. */
typedef struct JsonField
{
	const char *key;
	CheckColumn column;
	bool		is_number;
} JsonField;

static const JsonField json_fields[] = {
	{"line", COL_LINE, true},
	{"column", COL_COL, true},
	{"statement_no", COL_STATEMENT_NO, true},
	{"rule", COL_RULE, false},
	{"level", COL_LEVEL, false},
	{"lock_mode", COL_LOCK_MODE, false},
	{"relation", COL_RELATION, false},
	{"table_size", COL_TABLE_SIZE, true},
	{"message", COL_MESSAGE, false},
	{"hint", COL_HINT, false},
	{"statement", COL_STATEMENT, false},
};

#define lengthof(array) (sizeof(array) / sizeof((array)[0]))


/*
 * Print "migguard-check: " and a message on standard error.  Standard
 * output is flushed first so that diagnostics land after the findings
 * that preceded them.
 */
static void log_error(const char *fmt,...) __attribute__((format(printf, 1, 2)));

static void
log_error(const char *fmt,...)
{
	va_list		args;

	fflush(stdout);
	fputs(PROGNAME ": ", stderr);
	va_start(args, fmt);
	vfprintf(stderr, fmt, args);
	va_end(args);
}

/*
 * libpq's messages end with a newline; add one only if it is missing, so
 * they can be printed with log_error("...%s%s", message, missing_newline()).
 */
static const char *
missing_newline(const char *message)
{
	size_t		len = strlen(message);

	return (len == 0 || message[len - 1] != '\n') ? "\n" : "";
}

static void
log_try_help(void)
{
	log_error("hint: Try \"%s --help\" for more information.\n", PROGNAME);
}

static void
print_help(void)
{
	printf("%s checks migration files with migguard.check() on a live server.\n\n",
		   PROGNAME);
	printf("Usage:\n");
	printf("  %s [OPTION]... FILE...\n\n", PROGNAME);
	printf("FILE holds SQL statements; \"-\" reads standard input.\n\n");
	printf("Options:\n");
	printf("      --format=FORMAT      output format: text (default) or json\n");
	printf("  -q, --quiet              do not print hints\n");
	printf("  -V, --version            output version information, then exit\n");
	printf("      --help               show this help, then exit\n");
	printf("\nConnection options:\n");
	printf("  -d, --dbname=DBNAME      database name or connection string\n");
	printf("  -h, --host=HOSTNAME      database server host or socket directory\n");
	printf("  -p, --port=PORT          database server port\n");
	printf("  -U, --username=USERNAME  database user name\n");
	printf("\nThe libpq environment variables (PGHOST, PGPORT, PGDATABASE, PGUSER,\n"
		   "PGPASSWORD, PGOPTIONS, ...) and ~/.pgpass are honored; there is no\n"
		   "password prompt.  Files are sent as UTF-8 unless PGCLIENTENCODING or\n"
		   "the connection string says otherwise.  The database must have the\n"
		   "migguard extension.\n");
	printf("\nText output has one line per finding,\n"
		   "  FILE:LINE:COL: LEVEL: MESSAGE [RULE]\n"
		   "followed by the hint, indented by two spaces.  JSON output is one array\n"
		   "of finding objects.  If there were findings, a summary line such as\n"
		   "\"%s: 2 errors, 1 warning in 3 files\" goes to standard error;\n"
		   "a clean run prints no summary.  A file that cannot be read or checked\n"
		   "is reported and the other files are still checked.\n", PROGNAME);
	printf("\nExit status:\n"
		   "  0  no findings\n"
		   "  1  warnings only\n"
		   "  2  at least one error (syntax errors included)\n"
		   "  3  usage error, unreadable file, connection or query failure\n");
}

static bool
parse_format(const char *value, OutputFormat *format)
{
	if (strcmp(value, "text") == 0)
		*format = FORMAT_TEXT;
	else if (strcmp(value, "json") == 0)
		*format = FORMAT_JSON;
	else
	{
		log_error("invalid output format \"%s\"\n", value);
		log_error("hint: Valid formats are \"text\" and \"json\".\n");
		return false;
	}
	return true;
}

static ParseResult
parse_options(int argc, char **argv, Options *opts)
{
	enum
	{
		OPT_FORMAT = 1000,
		OPT_HELP
	};
	static const struct option long_options[] = {
		{"dbname", required_argument, NULL, 'd'},
		{"host", required_argument, NULL, 'h'},
		{"port", required_argument, NULL, 'p'},
		{"username", required_argument, NULL, 'U'},
		{"format", required_argument, NULL, OPT_FORMAT},
		{"quiet", no_argument, NULL, 'q'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, OPT_HELP},
		{NULL, 0, NULL, 0}
	};
	int			c;

	memset(opts, 0, sizeof(*opts));
	opts->format = FORMAT_TEXT;

	while ((c = getopt_long(argc, argv, "d:h:p:U:qV", long_options, NULL)) != -1)
	{
		switch (c)
		{
			case 'd':
				opts->dbname = optarg;
				break;
			case 'h':
				opts->host = optarg;
				break;
			case 'p':
				opts->port = optarg;
				break;
			case 'U':
				opts->username = optarg;
				break;
			case 'q':
				opts->quiet = true;
				break;
			case OPT_FORMAT:
				if (!parse_format(optarg, &opts->format))
					return PARSE_USAGE_ERROR;
				break;
			case 'V':
				printf("%s (migguard) %s\n", PROGNAME, MIGGUARD_CHECK_VERSION);
				return PARSE_DONE;
			case OPT_HELP:
				print_help();
				return PARSE_DONE;
			default:
				/* getopt_long has already said what is wrong */
				log_try_help();
				return PARSE_USAGE_ERROR;
		}
	}

	if (optind >= argc)
	{
		log_error("no input files\n");
		log_try_help();
		return PARSE_USAGE_ERROR;
	}
	opts->files = argv + optind;
	opts->nfiles = argc - optind;
	return PARSE_RUN;
}

/*
 * Connect the way psql does: -d may be a full connection string, which
 * overrides -h/-p/-U given separately; anything unset falls back to the
 * libpq environment.  We ask for UTF8 unless the user chose an encoding,
 * because migration files are UTF-8 and JSON output must be.
 */
static PGconn *
connect_to_server(const Options *opts)
{
	const char *keywords[7];
	const char *values[7];
	int			n = 0;
	PGconn	   *conn;

	if (getenv("PGCLIENTENCODING") == NULL)
	{
		keywords[n] = "client_encoding";
		values[n++] = "UTF8";
	}
	keywords[n] = "host";
	values[n++] = opts->host;
	keywords[n] = "port";
	values[n++] = opts->port;
	keywords[n] = "user";
	values[n++] = opts->username;
	keywords[n] = "dbname";
	values[n++] = opts->dbname;
	keywords[n] = "fallback_application_name";
	values[n++] = PROGNAME;
	keywords[n] = NULL;
	values[n] = NULL;

	conn = PQconnectdbParams(keywords, values, 1);
	if (conn == NULL)
	{
		log_error("could not connect: out of memory\n");
		return NULL;
	}
	if (PQstatus(conn) != CONNECTION_OK)
	{
		const char *message = PQerrorMessage(conn);

		log_error("could not connect: %s%s", message, missing_newline(message));
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

/*
 * Read a whole stream into a NUL-terminated buffer the caller frees, and
 * its length.  Returns NULL with errno set on a read error.
 */
static char *
read_stream(FILE *stream, size_t *length)
{
	size_t		size = 8192;
	size_t		len = 0;
	char	   *buf = malloc(size);

	while (buf != NULL)
	{
		char	   *bigger;

		len += fread(buf + len, 1, size - len - 1, stream);
		if (ferror(stream))
		{
			int			save_errno = errno;

			free(buf);
			errno = save_errno;
			return NULL;
		}
		if (feof(stream))
		{
			buf[len] = '\0';
			*length = len;
			return buf;
		}
		bigger = realloc(buf, size * 2);
		if (bigger == NULL)
			free(buf);
		buf = bigger;
		size *= 2;
	}
	errno = ENOMEM;
	return NULL;
}

/*
 * Read one FILE argument ("-" is standard input) whole.  Reports the
 * problem and returns NULL if it cannot be read or cannot be SQL text.
 */
static char *
read_sql_file(const char *path)
{
	bool		is_stdin = strcmp(path, "-") == 0;
	const char *name = is_stdin ? STDIN_NAME : path;
	FILE	   *stream = is_stdin ? stdin : fopen(path, "rb");
	char	   *sql;
	size_t		len = 0;

	if (stream == NULL)
	{
		log_error("could not open file \"%s\": %s\n", name, strerror(errno));
		return NULL;
	}
	sql = read_stream(stream, &len);
	if (sql == NULL)
		log_error("could not read file \"%s\": %s\n", name, strerror(errno));
	else if (strlen(sql) != len)
	{
		/* SQL text cannot hold a NUL byte, and libpq would cut it there */
		log_error("file \"%s\" contains a null byte\n", name);
		free(sql);
		sql = NULL;
	}
	if (!is_stdin)
		fclose(stream);
	return sql;
}

/* Write s as a JSON string: quoted, escaped, UTF-8 passed through. */
static void
print_json_string(const char *s)
{
	const unsigned char *p;

	putchar('"');
	for (p = (const unsigned char *) s; *p != '\0'; p++)
	{
		switch (*p)
		{
			case '"':
				fputs("\\\"", stdout);
				break;
			case '\\':
				fputs("\\\\", stdout);
				break;
			case '\b':
				fputs("\\b", stdout);
				break;
			case '\f':
				fputs("\\f", stdout);
				break;
			case '\n':
				fputs("\\n", stdout);
				break;
			case '\r':
				fputs("\\r", stdout);
				break;
			case '\t':
				fputs("\\t", stdout);
				break;
			default:
				if (*p < 0x20)
					printf("\\u%04x", *p);
				else
					putchar(*p);
				break;
		}
	}
	putchar('"');
}

static void
print_json_value(const PGresult *res, int row, const JsonField *field)
{
	if (PQgetisnull(res, row, field->column))
		fputs("null", stdout);
	else if (field->is_number)
		fputs(PQgetvalue(res, row, field->column), stdout);
	else
		print_json_string(PQgetvalue(res, row, field->column));
}

static void
print_json_finding(const PGresult *res, int row, const char *file,
				   Report *report)
{
	size_t		i;

	fputs(report->nfindings == 0 ? "\n  {" : ",\n  {", stdout);
	fputs("\"file\": ", stdout);
	print_json_string(file);
	for (i = 0; i < lengthof(json_fields); i++)
	{
		printf(", \"%s\": ", json_fields[i].key);
		print_json_value(res, row, &json_fields[i]);
	}
	putchar('}');
}

/*
 * Print a hint under its finding.  A multi-line hint (a recipe of several
 * statements) keeps its lines, each indented like the first.
 */
static void
print_hint(const char *hint)
{
	const char *prefix = "  hint: ";
	const char *line = hint;

	for (;;)
	{
		const char *end = strchr(line, '\n');
		int			len = end ? (int) (end - line) : (int) strlen(line);

		printf("%s%.*s\n", prefix, len, line);
		if (end == NULL || end[1] == '\0')
			break;
		line = end + 1;
		prefix = "  ";
	}
}

/* FILE:LINE:COL: LEVEL: MESSAGE [RULE], leaving out an unknown position. */
static void
print_text_finding(const PGresult *res, int row, const char *file,
				   bool quiet)
{
	printf("%s:", file);
	if (!PQgetisnull(res, row, COL_LINE))
	{
		printf("%s:", PQgetvalue(res, row, COL_LINE));
		if (!PQgetisnull(res, row, COL_COL))
			printf("%s:", PQgetvalue(res, row, COL_COL));
	}
	printf(" %s: %s [%s]\n",
		   PQgetvalue(res, row, COL_LEVEL),
		   PQgetvalue(res, row, COL_MESSAGE),
		   PQgetvalue(res, row, COL_RULE));

	if (!quiet && !PQgetisnull(res, row, COL_HINT) &&
		PQgetvalue(res, row, COL_HINT)[0] != '\0')
		print_hint(PQgetvalue(res, row, COL_HINT));
}

/*
 * Report every finding of one file.  Any level other than "error" counts
 * as a warning, so a level added to the server later cannot fail a build
 * by surprise.
 */
static void
report_findings(const PGresult *res, const char *file, Report *report)
{
	int			row;

	for (row = 0; row < PQntuples(res); row++)
	{
		if (strcmp(PQgetvalue(res, row, COL_LEVEL), "error") == 0)
			report->nerrors++;
		else
			report->nwarnings++;

		if (report->format == FORMAT_JSON)
			print_json_finding(res, row, file, report);
		else
			print_text_finding(res, row, file, report->quiet);
		report->nfindings++;
	}
	report->nfiles_checked++;
}

/*
 * Report a failed migguard.check() call.  A missing schema or function
 * means the extension is not installed: say so once, with the primary
 * message only (a position in our own query would only confuse), and stop.
 * Anything else belongs to this file and is shown in full.
 */
static CheckResult
report_query_failure(PGconn *conn, const PGresult *res, const char *file)
{
	const char *sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY);
	const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *message = PQresultErrorMessage(res);

	if (sqlstate != NULL && severity != NULL && primary != NULL &&
		(strcmp(sqlstate, "3F000") == 0 ||	/* invalid_schema_name */
		 strcmp(sqlstate, "42883") == 0))	/* undefined_function */
	{
		log_error("%s:  %s\n", severity, primary);
		log_error("hint: Run CREATE EXTENSION migguard in database \"%s\".\n",
				  PQdb(conn));
		return CHECK_FATAL;
	}

	if (message[0] == '\0')
		message = PQerrorMessage(conn);
	log_error("%s: %s%s", file, message, missing_newline(message));
	return PQstatus(conn) == CONNECTION_OK ? CHECK_FAILED : CHECK_FATAL;
}

static CheckResult
check_file(PGconn *conn, const char *path, Report *report)
{
	const char *file = strcmp(path, "-") == 0 ? STDIN_NAME : path;
	const Oid	param_types[1] = {TEXT_TYPE_OID};
	const char *param_values[1];
	char	   *sql;
	PGresult   *res;
	CheckResult result = CHECK_DONE;

	sql = read_sql_file(path);
	if (sql == NULL)
		return CHECK_FAILED;

	param_values[0] = sql;
	res = PQexecParams(conn, CHECK_QUERY, 1, param_types, param_values,
					   NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK)
		report_findings(res, file, report);
	else
		result = report_query_failure(conn, res, file);

	PQclear(res);
	free(sql);
	return result;
}

static void
begin_output(const Report *report)
{
	if (report->format == FORMAT_JSON)
		putchar('[');
}

static void
end_output(const Report *report)
{
	if (report->format == FORMAT_JSON)
		fputs(report->nfindings == 0 ? "]\n" : "\n]\n", stdout);
}

static void
print_summary(const Report *report)
{
	if (report->nerrors + report->nwarnings == 0)
		return;
	log_error("%ld error%s, %ld warning%s in %d file%s\n",
			  report->nerrors, report->nerrors == 1 ? "" : "s",
			  report->nwarnings, report->nwarnings == 1 ? "" : "s",
			  report->nfiles_checked, report->nfiles_checked == 1 ? "" : "s");
}

static ExitStatus
exit_status(const Report *report)
{
	if (report->failed)
		return MGC_EXIT_FAILURE;
	if (report->nerrors > 0)
		return MGC_EXIT_ERRORS;
	if (report->nwarnings > 0)
		return MGC_EXIT_WARNINGS;
	return MGC_EXIT_CLEAN;
}

int
main(int argc, char **argv)
{
	Options		opts;
	Report		report;
	PGconn	   *conn;
	int			i;

	switch (parse_options(argc, argv, &opts))
	{
		case PARSE_RUN:
			break;
		case PARSE_DONE:
			return MGC_EXIT_CLEAN;
		case PARSE_USAGE_ERROR:
			return MGC_EXIT_FAILURE;
	}

	conn = connect_to_server(&opts);
	if (conn == NULL)
		return MGC_EXIT_FAILURE;

	memset(&report, 0, sizeof(report));
	report.format = opts.format;
	report.quiet = opts.quiet;

	begin_output(&report);
	for (i = 0; i < opts.nfiles; i++)
	{
		CheckResult result = check_file(conn, opts.files[i], &report);

		if (result != CHECK_DONE)
			report.failed = true;
		if (result == CHECK_FATAL)
			break;
	}
	end_output(&report);
	PQfinish(conn);

	if (fflush(stdout) != 0 || ferror(stdout))
	{
		log_error("could not write to standard output: %s\n", strerror(errno));
		report.failed = true;
	}
	print_summary(&report);
	return exit_status(&report);
}
