/*-------------------------------------------------------------------------
 *
 * json_out.c
 *		The one JSON builder: change_log.findings and change_log.objects
 *		are arrays of flat objects whose fields are strings or null.
 *
 * A StringInfo holds the body of an array (its elements, without the
 * brackets), so an element can be appended long after the first one, as
 * the event triggers do; migguard_json_array closes it.  Strings are
 * escaped by PostgreSQL's own escape_json (json.c), as row_to_json and
 * json_build_object escape theirs.
 *
 *-------------------------------------------------------------------------
 */
#include "json_out.h"

#include "utils/json.h"

/* Start an element of the array: "{", after ", " unless it is the first. */
void
migguard_json_begin_object(StringInfo array)
{
	appendStringInfoString(array, array->len ? ", {" : "{");
}

/*
 * A "key": "value" field of the open element; NULL is JSON null.  Keys are
 * migguard's own lower-case names ("rule", "identity", ...): written as
 * they are, only values are escaped.
 */
void
migguard_json_field(StringInfo array, const char *key, const char *value)
{
	if (array->data[array->len - 1] != '{')
		appendStringInfoString(array, ", ");
	appendStringInfoChar(array, '"');
	appendStringInfoString(array, key);
	appendStringInfoString(array, "\": ");
	if (value)
		escape_json(array, value);
	else
		appendStringInfoString(array, "null");
}

void
migguard_json_end_object(StringInfo array)
{
	appendStringInfoChar(array, '}');
}

/* The array whose body is in body, as a palloc'd string. */
char *
migguard_json_array(const StringInfo body)
{
	return psprintf("[%s]", body->data);
}
