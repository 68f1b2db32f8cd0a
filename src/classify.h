/*-------------------------------------------------------------------------
 *
 * classify.h
 *		Statement -> facts (classify.c): which statements migguard looks at,
 *		and the MigguardStatement of one of them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGGUARD_CLASSIFY_H
#define MIGGUARD_CLASSIFY_H

#include "facts.h"

extern bool migguard_is_checked_statement(Node *parsetree);
extern MigguardStatement *migguard_classify(MigguardAnalysis *cx,
											Node *parsetree,
											const char *stmt_text);

#endif							/* MIGGUARD_CLASSIFY_H */
