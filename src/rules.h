/*-------------------------------------------------------------------------
 *
 * rules.h
 *		Facts -> findings (rules.c): the rule catalog, the levels in effect,
 *		and the evaluation of a statement.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGGUARD_RULES_H
#define MIGGUARD_RULES_H

#include "migguard.h"

/*
 * Parsed migguard.rules: a level per rule, or -1 for the rule's default.
 * policy.c parses the setting (its check hook) and hands the result here
 * (its assign hook); rules.c looks the levels up while it evaluates.
 */
typedef struct MigguardRuleLevels
{
	int8		level[MG_NUM_RULES];
} MigguardRuleLevels;

extern const char *migguard_rule_name(MigguardRuleId rule);
extern int	migguard_rule_lookup(const char *name);
extern const char *migguard_rule_names_list(void);
extern const char *migguard_level_name(MigguardLevel level);
extern int	migguard_level_lookup(const char *name);
extern void migguard_set_rule_levels(const MigguardRuleLevels *levels);
extern MigguardLevel migguard_rule_level(MigguardRuleId rule, MigguardLevel dflt);
extern bool migguard_relation_is_large(const MigguardRelation *rel);
extern List *migguard_evaluate(MigguardStatement *stmt);
extern bool migguard_rule_rewrites(MigguardRuleId rule);

#endif							/* MIGGUARD_RULES_H */
