/*-------------------------------------------------------------------------
 *
 * audit.h
 *		The audit entries of running statements and the one change_log
 *		writer (audit.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGGUARD_AUDIT_H
#define MIGGUARD_AUDIT_H

#include "migguard.h"

#include "storage/lwlock.h"

/*
 * One change_log row, as the hook and the blocked-attempt worker write it
 * (audit.c writes it, blocked.c queues it).  NULL strings, an invalid xid and
 * a negative table_size are SQL NULLs.
 */
typedef struct MigguardLogRow
{
	TimestampTz logged_at;
	FullTransactionId xid;
	int			pid;
	const char *session_user_name;
	const char *current_user_name;
	const char *application_name;
	const char *client_addr;
	const char *command_tag;
	const char *objects;		/* JSON array */
	const char *statement;
	const char *lock_mode;
	int64		table_size;
	bool		rewrite;
	const char *verdict;
	const char *findings;		/* JSON array */
	const char *tag;
	int			nesting;
	int			attempts;
	int64		lock_wait_ms;
	const char *reason;			/* migguard.reason; written when the column exists */
	int64		approval_id;	/* 0: none */
} MigguardLogRow;

/* The hook: one entry per DDL statement, written when it returns. */
extern void migguard_audit_begin(Node *parsetree, MigguardStatement *stmt,
								 List *findings, MigguardVerdict verdict,
								 int nesting);
extern void migguard_audit_end(void);
extern void migguard_audit_abort(void);

/* The event triggers (event_triggers.c): what they add to the entry. */
typedef struct MigguardAuditedStatement
{
	const char *statement;
	const char *command_tag;
	int			nesting;
	Oid			userid;			/* who ran it (event triggers run as definer) */
	bool		rewrite_judged; /* a rule of it judged this rewrite */
} MigguardAuditedStatement;

extern bool migguard_audit_is_open(void);
extern void migguard_audit_add_object(const char *type, const char *schema,
									  const char *identity);
extern bool migguard_audit_rewrite(Oid relid, MigguardAuditedStatement *out);
extern void migguard_audit_add_rewrite_findings(Oid relid, List *findings,
												MigguardVerdict verdict);

/* The writer, as the worker (blocked.c) uses it. */
extern bool migguard_change_log_try_insert(const MigguardLogRow *row, Oid relid,
										   Oid owner, char **error);
extern char *migguard_findings_json_within(List *findings, int maxlen);
extern void migguard_statement_lock_and_size(MigguardStatement *stmt,
											 LOCKMODE *lockmode,
											 int64 *table_size);

/*
 * What the queue (blocked.c) lends the writer: the LWLock that serializes
 * drawing change_log ids, and where a row goes that this backend cannot
 * write (true: queued).
 */
typedef bool (*MigguardRowDeferral) (const MigguardLogRow *row);
extern void migguard_audit_attach_queue(LWLock *id_lock,
										MigguardRowDeferral deferral);

#endif							/* MIGGUARD_AUDIT_H */
