/*-------------------------------------------------------------------------
 *
 * sqltext.h
 *		Statement text and the words of messages (sqltext.c): one statement
 *		out of a multi-statement string, a statement with a keyword added,
 *		quoted identifiers and literals, sizes, relation names, lock modes.
 *		Calls only PostgreSQL.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGGUARD_SQLTEXT_H
#define MIGGUARD_SQLTEXT_H

#include "migguard.h"

extern char *migguard_statement_text(const char *queryString, int location,
									 int len);
extern int	migguard_statement_offset(const char *queryString, int location,
									  int len);
extern char *migguard_insert_keyword(const char *stmt, const char *after_keyword,
									 const char *insert);
extern char *migguard_text_after_keyword(const char *stmt, const char *keyword,
										int ch);
extern char *migguard_append_before_semicolon(const char *stmt, const char *suffix);
extern char *migguard_pretty_size(int64 bytes);
extern char *migguard_display_name(const MigguardRelation *rel);
extern char *migguard_sql_name(const MigguardRelation *rel);
extern const char *migguard_quote_ident(const char *ident);
extern char *migguard_quote_qualified(const char *schema, const char *name);
extern char *migguard_quote_literal(const char *str);
extern const char *migguard_lock_mode_sql(LOCKMODE mode);
extern const char *migguard_lock_blocks(LOCKMODE mode);

#endif							/* MIGGUARD_SQLTEXT_H */
