/*-------------------------------------------------------------------------
 *
 * catalog.h
 *		The extension's own tables, found by OID (catalog.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGGUARD_CATALOG_H
#define MIGGUARD_CATALOG_H

#include "postgres.h"

extern Oid	migguard_extension_table(const char *relname);
extern Oid	migguard_change_log(Oid *owner);

#endif							/* MIGGUARD_CATALOG_H */
