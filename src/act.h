/*-------------------------------------------------------------------------
 *
 * act.h
 *		The act stage (act.c): a verdict becomes an ERROR, WARNINGs, or
 *		nothing.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGGUARD_ACT_H
#define MIGGUARD_ACT_H

#include "migguard.h"

extern void migguard_act(MigguardStatement *stmt, List *findings,
						 MigguardVerdict verdict, int nesting);

#endif							/* MIGGUARD_ACT_H */
