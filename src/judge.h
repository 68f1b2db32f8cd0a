/*-------------------------------------------------------------------------
 *
 * judge.h
 *		The pipeline up to the verdict, as one function (judge.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGGUARD_JUDGE_H
#define MIGGUARD_JUDGE_H

#include "migguard.h"

extern MigguardVerdict migguard_judge(MigguardAnalysis *cx, Node *parsetree,
									  const char *text,
									  MigguardStatement **stmt,
									  List **findings);
extern MigguardVerdict migguard_judge_statement(MigguardStatement *stmt,
												List **findings);

#endif							/* MIGGUARD_JUDGE_H */
