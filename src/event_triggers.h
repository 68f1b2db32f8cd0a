/*-------------------------------------------------------------------------
 *
 * event_triggers.h
 *		What migguard's event-trigger module offers the hook
 *		(event_triggers.c); the trigger functions themselves are SQL-callable
 *		only.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGGUARD_EVENT_TRIGGERS_H
#define MIGGUARD_EVENT_TRIGGERS_H

#include "migguard.h"

extern void migguard_event_add_created(CreateTableAsStmt *ctas, CommandId since);

#endif							/* MIGGUARD_EVENT_TRIGGERS_H */
