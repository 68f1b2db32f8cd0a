/*-------------------------------------------------------------------------
 *
 * approvals.c
 *		Findings approved ahead: the match of a finding against
 *		migguard.approved_findings (written by migguard.approve()).
 *
 * A finding of rule R on relation T is overridden when the table holds an
 * approval of R on T that is not revoked and not expired; its id goes to
 * change_log.approval_id.  An approval that matches but has expired does
 * not apply, and the message says so.
 *
 * The table is the member of extension migguard named approved_findings,
 * found by OID (pg_depend), read with a heap scan, no SQL and no function
 * of anybody's: only what the approve() function wrote.  Its lock is taken
 * conditionally: when it is not free (someone altering the table), there
 * is no approval, the conservative answer, and nothing waits.  Only findings
 * on a relation look, so statements without findings pay nothing.
 *
 *-------------------------------------------------------------------------
 */
#include "migguard.h"
#include "approvals.h"
#include "catalog.h"
#include "rules.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

/* migguard.approver_role: who, besides superusers, may approve. */
char	   *migguard_approver_role = NULL;

static AttrNumber
column(Relation rel, const char *name)
{
	AttrNumber	attno = get_attnum(RelationGetRelid(rel), name);

	if (attno == InvalidAttrNumber)
		elog(ERROR, "migguard.approved_findings has no column \"%s\"", name);
	return attno;
}

/*
 * Set f->approval_id (an approval applies) or f->expired_approval_id and
 * f->expired_at (the newest matching approval that has expired).
 */
void
migguard_match_approval(MigguardFinding *f)
{
	Oid			relid;
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tup;
	AttrNumber	a_id,
				a_rule,
				a_relation,
				a_expires,
				a_revoked;
	const char *rule = migguard_rule_name(f->rule);
	TimestampTz now = GetCurrentTimestamp();

	if (f->op == NULL || f->op->rel == NULL || !OidIsValid(f->op->rel->relid))
		return;
	relid = migguard_extension_table("approved_findings");
	if (!OidIsValid(relid) || !ConditionalLockRelationOid(relid, AccessShareLock))
		return;
	rel = table_open(relid, NoLock);
	a_id = column(rel, "id");
	a_rule = column(rel, "rule");
	a_relation = column(rel, "relation");
	a_expires = column(rel, "expires");
	a_revoked = column(rel, "revoked_at");

	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		TupleDesc	desc = RelationGetDescr(rel);
		bool		isnull;
		Datum		value;
		int64		id;
		TimestampTz expires;

		(void) heap_getattr(tup, a_revoked, desc, &isnull);
		if (!isnull)
			continue;
		value = heap_getattr(tup, a_relation, desc, &isnull);
		if (isnull || DatumGetObjectId(value) != f->op->rel->relid)
			continue;
		value = heap_getattr(tup, a_rule, desc, &isnull);
		if (isnull || strcmp(TextDatumGetCString(value), rule) != 0)
			continue;
		id = DatumGetInt64(heap_getattr(tup, a_id, desc, &isnull));
		expires = DatumGetTimestampTz(heap_getattr(tup, a_expires, desc, &isnull));
		if (isnull)
			continue;
		if (expires > now)
		{
			if (id > f->approval_id)
				f->approval_id = id;
		}
		else if (id > f->expired_approval_id)
		{
			f->expired_approval_id = id;
			f->expired_at = expires;
		}
	}
	systable_endscan(scan);
	table_close(rel, NoLock);
	if (f->approval_id > 0)
		f->expired_approval_id = 0;
}
