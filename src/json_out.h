/*-------------------------------------------------------------------------
 *
 * json_out.h
 *		The JSON migguard writes: arrays of flat objects of string fields
 *		(json_out.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGGUARD_JSON_OUT_H
#define MIGGUARD_JSON_OUT_H

#include "postgres.h"

#include "lib/stringinfo.h"

extern void migguard_json_begin_object(StringInfo array);
extern void migguard_json_field(StringInfo array, const char *key,
								const char *value);
extern void migguard_json_end_object(StringInfo array);
extern char *migguard_json_array(const StringInfo body);

#endif							/* MIGGUARD_JSON_OUT_H */
