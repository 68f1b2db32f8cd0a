/*-------------------------------------------------------------------------
 *
 * judge.c
 *		The pipeline up to the verdict, in one place:
 *
 *		statement -> classify (facts) -> rules (findings) -> policy (verdict)
 *
 * migguard_judge() is what the hook (migguard.c), migguard.check()
 * (check.c) ask about a parse tree; migguard_judge_statement() is the same
 * from the rules on, for facts that come from an event instead (the
 * table_rewrite event trigger, and dml_watch.c for DML under a strong
 * lock: their MigguardStatement is made with migguard_new_statement).
 * Acting on the verdict (act.c's migguard_act), counting it (stats.c)
 * and recording it (audit.c) stay with the callers: check() does none of
 * them, the table_rewrite trigger counts only its findings.
 *
 * A dry run (migguard.check()) stops at the findings: it lints, and the
 * verdict belongs to the session that runs the migration (its mode, allow
 * and approvals), so the verdict is MG_VERDICT_ALLOWED and no approval is
 * looked up.
 *
 * The layering of the judging modules; each calls only the ones below it,
 * and PostgreSQL:
 *
 *		judge			classify -> rules -> policy
 *		policy			verdict from findings, mode, allow, override_role,
 *						approvals; parses migguard.rules for rules
 *		rules			the catalog, levels in effect, message builders
 *		classify		statement -> facts, through its parts:
 *		hazards			migration-level facts (reads holds: the strong
 *						locks of earlier statements)
 *		stmtkind		the lock facts of each statement kind
 *		facts			an empty statement, its ops and lock facts, and
 *						the lookups the three above share
 *		relsize			relation facts: size, newness, rows, visibility
 *		lockfacts		lock modes, protection, the analysis' probe locks
 *		sqltext, subxact
 *
 * The lock guard (lockguard.c) is the execution side: the hook builds it
 * from the judged statement and runs the statement under it; it uses
 * lockfacts and stmtkind, and nothing of the judgement calls it.
 *
 *-------------------------------------------------------------------------
 */
#include "judge.h"
#include "classify.h"
#include "policy.h"
#include "rules.h"

/*
 * Rules and policy on the facts of one statement: the findings at the
 * levels in effect, and the verdict (none in a dry run).
 */
MigguardVerdict
migguard_judge_statement(MigguardStatement *stmt, List **findings)
{
	*findings = migguard_evaluate(stmt);
	if (stmt->analysis->dry_run)
		return MG_VERDICT_ALLOWED;
	return migguard_decide(*findings);
}

/* The whole judgement of one parsed statement whose text is text. */
MigguardVerdict
migguard_judge(MigguardAnalysis *cx, Node *parsetree, const char *text,
			   MigguardStatement **stmt, List **findings)
{
	*stmt = migguard_classify(cx, parsetree, text);
	return migguard_judge_statement(*stmt, findings);
}
