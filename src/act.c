/*-------------------------------------------------------------------------
 *
 * act.c
 *		The act stage: the only place that raises or warns on a verdict.
 *
 * Non-blocking findings become WARNINGs (an overridden one says so).  When
 * the statement is blocked, the first blocking finding becomes the ERROR
 * (SQLSTATE MG001); its detail lists every finding of the statement and its
 * hint gives the safe sequence and the override.  A blocked statement is
 * always also written to the server log.
 *
 *-------------------------------------------------------------------------
 */
#include "act.h"
#include "blocked.h"
#include "rules.h"

#include "utils/acl.h"
#include "utils/elog.h"

static char *
override_sentence(const MigguardFinding *f)
{
	/* SET LOCAL cannot reach a statement that runs outside any block. */
	if (f->op->flags & MG_F_NO_TRANSACTION_BLOCK)
		return psprintf("To accept the risk, run SET migguard.allow = '%s' before the statement and RESET migguard.allow after it.",
						migguard_rule_name(f->rule));
	return psprintf("To accept the risk, run SET LOCAL migguard.allow = '%s' in the same transaction.",
					migguard_rule_name(f->rule));
}

/* "Rule create_index: <reason>" for one finding. */
static void
append_reason(StringInfo buf, const MigguardFinding *f, bool with_level)
{
	if (buf->len > 0)
		appendStringInfoChar(buf, '\n');
	if (with_level)
		appendStringInfo(buf, "Rule %s (%s): %s", migguard_rule_name(f->rule),
						 migguard_level_name(f->level), f->reason);
	else
		appendStringInfo(buf, "Rule %s: %s", migguard_rule_name(f->rule),
						 f->reason);
}

/* Why migguard.allow did not override the finding (require_reason). */
static char *
needs_reason_sentence(const MigguardFinding *f)
{
	return psprintf("migguard.allow lists %s, but migguard.require_reason is on and migguard.reason is empty: an override needs a reason.",
					migguard_rule_name(f->rule));
}

/* An approval matched the finding but had expired. */
static char *
expired_sentence(const MigguardFinding *f)
{
	return psprintf("Approval " INT64_FORMAT " of %s on this relation expired at %s and no longer applies.",
					f->expired_approval_id, migguard_rule_name(f->rule),
					timestamptz_to_str(f->expired_at));
}

static void
warn(const MigguardFinding *f)
{
	StringInfoData detail;

	initStringInfo(&detail);
	append_reason(&detail, f, false);
	if (f->approval_id > 0)
		appendStringInfo(&detail, "\nOverridden by approval " INT64_FORMAT " (migguard.approvals).",
						 f->approval_id);
	else if (f->action == MG_ACTION_OVERRIDE)
		appendStringInfo(&detail, "\nOverridden through migguard.allow.");
	if (f->expired_approval_id > 0)
		appendStringInfo(&detail, "\n%s", expired_sentence(f));
	else if (f->override_needs_reason)
		appendStringInfo(&detail, "\n%s", needs_reason_sentence(f));

	ereport(WARNING,
			(errmsg("%s", f->message),
			 errdetail_internal("%s", detail.data),
			 errhint("%s", f->hint)));
	pfree(detail.data);
}

void
migguard_act(MigguardStatement *stmt, List *findings, MigguardVerdict verdict,
			 int nesting)
{
	MigguardFinding *blocking = NULL;
	ListCell   *lc;

	foreach(lc, findings)
	{
		MigguardFinding *f = (MigguardFinding *) lfirst(lc);

		if (f->action == MG_ACTION_WARN || f->action == MG_ACTION_OVERRIDE)
			warn(f);
		else if (f->action == MG_ACTION_BLOCK && blocking == NULL)
			blocking = f;
	}

	if (verdict == MG_VERDICT_BLOCKED && blocking != NULL)
	{
		StringInfoData detail;
		StringInfoData hint;

		initStringInfo(&detail);
		foreach(lc, findings)
			append_reason(&detail, (MigguardFinding *) lfirst(lc),
						  list_length(findings) > 1);
		if (blocking->expired_approval_id > 0)
			appendStringInfo(&detail, "\n%s", expired_sentence(blocking));
		if (blocking->override_denied &&
			!OidIsValid(get_role_oid(migguard_override_role, true)))
			appendStringInfo(&detail,
							 "\nmigguard.allow lists %s, but migguard.override_role names role \"%s\", which does not exist, so nobody may override migguard.",
							 migguard_rule_name(blocking->rule),
							 migguard_override_role);
		else if (blocking->override_needs_reason)
			appendStringInfo(&detail, "\n%s", needs_reason_sentence(blocking));
		else if (blocking->override_denied)
			appendStringInfo(&detail,
							 "\nmigguard.allow lists %s, but only members of role \"%s\" may override migguard.",
							 migguard_rule_name(blocking->rule),
							 migguard_override_role);

		initStringInfo(&hint);
		appendStringInfo(&hint, "%s\n%s", blocking->hint,
						 blocking->override_needs_reason ?
						 "Say why in the same transaction, for instance SET LOCAL migguard.reason = 'ticket 123: reviewed', and run the statement again." :
						 blocking->override_denied ?
						 psprintf("Ask a member of role \"%s\" to run the statement.",
								  migguard_override_role) :
						 override_sentence(blocking));

		/*
		 * The attempt must survive the rollback: the server log keeps it,
		 * and a background worker writes it to change_log (blocked.c).
		 */
		migguard_blocked_enqueue(stmt, findings, nesting);
		ereport(LOG_SERVER_ONLY,
				(errmsg("migguard: blocked %s: %s", stmt->command_tag,
						blocking->message),
				 errdetail_internal("%s", detail.data),
				 errhidecontext(true)));

		ereport(ERROR,
				(errcode(ERRCODE_MIGGUARD_BLOCKED),
				 errmsg("%s", blocking->message),
				 errdetail_internal("%s", detail.data),
				 errhint("%s", hint.data)));
	}
}
