/*-------------------------------------------------------------------------
 *
 * approvals.h
 *		Findings approved ahead (approvals.c), for policy.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGGUARD_APPROVALS_H
#define MIGGUARD_APPROVALS_H

#include "migguard.h"

extern char *migguard_approver_role;	/* migguard.approver_role */

extern void migguard_match_approval(MigguardFinding *f);

#endif							/* MIGGUARD_APPROVALS_H */
