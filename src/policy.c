/*-------------------------------------------------------------------------
 *
 * policy.c
 *		Settings -> verdict.  Parses migguard.rules and migguard.allow (check
 *		hooks parse into a guc_malloc'd "extra", assign hooks only copy it,
 *		the pgaudit pattern) and turns findings into actions and one verdict
 *		per statement.  This is the only place where mode, rule levels,
 *		allow and override_role meet.  It sits above rules.c: it calls
 *		the catalog (rule names, levels) and hands rules.c the parsed
 *		migguard.rules; rules.c never calls back.
 *
 *-------------------------------------------------------------------------
 */
#include "migguard.h"
#include "approvals.h"
#include "policy.h"
#include "rules.h"

#include "catalog/pg_authid.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"

/* Parsed migguard.allow: a flag per rule. */
typedef struct AllowedRules
{
	bool		allowed[MG_NUM_RULES];
} AllowedRules;

static AllowedRules *allowed_rules = NULL;

const char *
migguard_verdict_name(MigguardVerdict verdict)
{
	switch (verdict)
	{
		case MG_VERDICT_ALLOWED:
			return "allowed";
		case MG_VERDICT_WARNED:
			return "warned";
		case MG_VERDICT_OVERRIDDEN:
			return "overridden";
		case MG_VERDICT_BLOCKED:
			return "blocked";
	}
	return "allowed";
}

/* Trim ASCII white space at both ends, in place. */
static char *
trim(char *s)
{
	char	   *end;

	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n'))
		*--end = '\0';
	return s;
}

/*
 * Split a comma-separated setting into trimmed, non-empty items.  "a=b, c"
 * and "a = b,c" read the same.  An empty item between commas is an error.
 */
static bool
split_setting(const char *value, List **items)
{
	char	   *copy = pstrdup(value);
	char	   *item = copy;

	*items = NIL;
	if (trim(copy)[0] == '\0')
		return true;
	for (;;)
	{
		char	   *comma = strchr(item, ',');

		if (comma)
			*comma = '\0';
		if (trim(item)[0] == '\0')
		{
			GUC_check_errdetail("List syntax is invalid: empty entry.");
			return false;
		}
		*items = lappend(*items, trim(item));
		if (comma == NULL)
			break;
		item = comma + 1;
	}
	return true;
}

bool
check_migguard_rules(char **newval, void **extra, GucSource source)
{
	MigguardRuleLevels parsed;
	List	   *items;
	ListCell   *lc;

	memset(parsed.level, -1, sizeof(parsed.level));
	if (!split_setting(*newval, &items))
		return false;

	foreach(lc, items)
	{
		char	   *item = (char *) lfirst(lc);
		char	   *eq = strchr(item, '=');
		char	   *level_name;
		int			rule;
		int			level;

		if (eq == NULL)
		{
			GUC_check_errdetail("Entry \"%s\" is not of the form rule=level.", item);
			GUC_check_errhint("Levels are error, warning and off.");
			return false;
		}
		*eq = '\0';
		item = trim(item);
		level_name = trim(eq + 1);
		rule = migguard_rule_lookup(item);
		level = migguard_level_lookup(level_name);
		if (rule < 0)
		{
			GUC_check_errdetail("Unknown rule \"%s\".", item);
			GUC_check_errhint("Valid rules are: %s.", migguard_rule_names_list());
			return false;
		}
		if (level < 0)
		{
			GUC_check_errdetail("Unknown level \"%s\" for rule \"%s\".", level_name, item);
			GUC_check_errhint("Valid levels are: error, warning, off.");
			return false;
		}
		parsed.level[rule] = (int8) level;
	}

	*extra = mg_guc_malloc(sizeof(MigguardRuleLevels));
	if (*extra == NULL)
		return false;
	memcpy(*extra, &parsed, sizeof(MigguardRuleLevels));
	return true;
}

/* The levels are looked up by rules.c, which evaluates with them. */
void
assign_migguard_rules(const char *newval, void *extra)
{
	migguard_set_rule_levels((const MigguardRuleLevels *) extra);
}

bool
check_migguard_allow(char **newval, void **extra, GucSource source)
{
	AllowedRules parsed;
	List	   *items;
	ListCell   *lc;

	memset(&parsed, 0, sizeof(parsed));
	if (!split_setting(*newval, &items))
		return false;

	foreach(lc, items)
	{
		int			rule = migguard_rule_lookup((char *) lfirst(lc));

		if (rule < 0)
		{
			GUC_check_errdetail("Unknown rule \"%s\".", (char *) lfirst(lc));
			GUC_check_errhint("Valid rules are: %s.", migguard_rule_names_list());
			return false;
		}
		parsed.allowed[rule] = true;
	}

	*extra = mg_guc_malloc(sizeof(AllowedRules));
	if (*extra == NULL)
		return false;
	memcpy(*extra, &parsed, sizeof(AllowedRules));
	return true;
}

void
assign_migguard_allow(const char *newval, void *extra)
{
	allowed_rules = (AllowedRules *) extra;
}

/*
 * Whether this session may use migguard.allow: anyone when
 * migguard.override_role is empty, else the members of that role
 * (superusers are members of every role).
 *
 * The session user's membership counts, not the current user's: SET LOCAL
 * migguard.allow is the session's own statement, and a SECURITY DEFINER
 * function (or SET ROLE to a role that happens to be a member) must not
 * launder it.  A role that does not exist admits nobody, superusers
 * included: a misspelt setting fails closed (a superuser can change it).
 */
static bool
session_may_override(void)
{
	Oid			role;

	if (migguard_override_role == NULL || migguard_override_role[0] == '\0')
		return true;
	role = get_role_oid(migguard_override_role, true);
	if (!OidIsValid(role))
		return false;
	return is_member_of_role(GetSessionUserId(), role);
}

/*
 * Findings -> actions and one verdict.  enforce: error findings block,
 * warning findings warn; warn: everything warns; audit: nothing is shown.
 * A finding of an allowed rule is overridden, unless the user may not
 * override, in which case it is treated as if it were not allowed.
 */
MigguardVerdict
migguard_decide(List *findings)
{
	MigguardVerdict verdict = MG_VERDICT_ALLOWED;
	bool		may_override = true;
	bool		checked_override = false;
	ListCell   *lc;

	foreach(lc, findings)
	{
		MigguardFinding *f = (MigguardFinding *) lfirst(lc);
		bool		allowed = allowed_rules != NULL && allowed_rules->allowed[f->rule];
		MigguardVerdict v;

		if (allowed && !checked_override)
		{
			may_override = session_may_override();
			checked_override = true;
		}

		/* An override with no reason is no override (require_reason). */
		if (allowed && may_override && migguard_require_reason &&
			(migguard_reason == NULL || migguard_reason[0] == '\0'))
		{
			allowed = false;
			f->override_needs_reason = true;
		}

		/* Approved ahead (approvals.c): overridden, with the approval's id. */
		if (!(allowed && may_override) && migguard_mode != MG_MODE_AUDIT)
		{
			migguard_match_approval(f);
			if (f->approval_id > 0)
			{
				allowed = may_override = true;
				f->override_needs_reason = false;
			}
		}

		if (migguard_mode == MG_MODE_AUDIT)
			f->action = MG_ACTION_SILENT;
		else if (allowed && may_override)
			f->action = MG_ACTION_OVERRIDE;
		else if (migguard_mode == MG_MODE_ENFORCE && f->level == MG_LEVEL_ERROR)
		{
			f->action = MG_ACTION_BLOCK;
			f->override_denied = allowed;
		}
		else
			f->action = MG_ACTION_WARN;

		switch (f->action)
		{
			case MG_ACTION_BLOCK:
				v = MG_VERDICT_BLOCKED;
				break;
			case MG_ACTION_OVERRIDE:
				v = MG_VERDICT_OVERRIDDEN;
				break;
			case MG_ACTION_WARN:
				v = MG_VERDICT_WARNED;
				break;
			default:
				v = MG_VERDICT_ALLOWED;
				break;
		}
		if (v > verdict)
			verdict = v;
	}
	return verdict;
}
