/*-------------------------------------------------------------------------
 *
 * policy.h
 *		Findings + settings -> verdict (policy.c), and the check and assign
 *		hooks of migguard.rules and migguard.allow.  Above rules.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGGUARD_POLICY_H
#define MIGGUARD_POLICY_H

#include "migguard.h"

extern MigguardVerdict migguard_decide(List *findings);
extern const char *migguard_verdict_name(MigguardVerdict verdict);
extern bool check_migguard_rules(char **newval, void **extra, GucSource source);
extern void assign_migguard_rules(const char *newval, void *extra);
extern bool check_migguard_allow(char **newval, void **extra, GucSource source);
extern void assign_migguard_allow(const char *newval, void *extra);

#endif							/* MIGGUARD_POLICY_H */
