/*-------------------------------------------------------------------------
 *
 * classify.c
 *		Statement -> facts.  Turns a utility parse tree into MigguardOps: what
 *		the statement does, to which relation, under which lock.  No policy
 *		here: whether a fact is a problem is for rules.c.
 *
 * Relations are looked up without a lock (RangeVarGetRelid with NoLock), the
 * same way PostgreSQL resolves them a moment later.  A relation the current
 * user may not run the statement on, by PostgreSQL's own rule for that
 * statement (cited at each check), is left out: PostgreSQL then raises its
 * own permission error, exactly as without migguard, and the hook never
 * waits on, locks or even sizes a table the user has no right to change.
 * Likewise a statement PostgreSQL rejects for another reason (a missing or
 * system column, a name already taken, dependents without CASCADE) yields
 * no op, so that core's error, not MG001, is what the user sees, and a
 * statement core turns into a no-op is marked or left out.
 *
 * Where core's decision depends on the relation itself (does this ADD
 * COLUMN rewrite? is this SET NOT NULL proven by a CHECK? does this ATTACH
 * scan?) we ask the same questions core asks, with core's own exported
 * functions, so the prediction matches what tablecmds.c will do; but never
 * by running a function that is not core's, and never raising core's error
 * in its place (see "Analysis that runs no user code and raises no error").
 *
 *-------------------------------------------------------------------------
 */
#include "migguard.h"
#include "classify.h"
#include "hazards.h"
#include "lockfacts.h"
#include "relsize.h"
#include "sqltext.h"
#include "stmtkind.h"
#include "subxact.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/relation.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/catalog.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/heap.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_rewrite.h"
#include "catalog/dependency.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_opclass.h"
#include "catalog/pg_partitioned_table.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "commands/sequence.h"
#include "commands/tablecmds.h"
#include "commands/tablespace.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_coerce.h"
#include "parser/parse_collate.h"
#include "parser/parse_expr.h"
#include "parser/parse_node.h"
#include "parser/parse_relation.h"
#include "parser/parse_type.h"
#include "parser/parse_utilcmd.h"
#include "partitioning/partbounds.h"
#include "storage/lmgr.h"
#include "tcop/cmdtag.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/partcache.h"
#include "utils/resowner.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

/*
 * The statements that can change a schema in a way some rule judges: the
 * kinds of stmtkind.c's table.  Everything else leaves the hook here.
 */
bool
migguard_is_checked_statement(Node *parsetree)
{
	return migguard_stmt_kind_known(parsetree) ||
		migguard_is_hazard_statement(parsetree);
}

/* ----------------------------------------------------------------
 * Lookups and permissions
 * ----------------------------------------------------------------
 */

/* The owner check PostgreSQL applies to ALTER, CREATE INDEX, REINDEX, ... */
static bool
user_owns_relation(Oid relid)
{
	return mg_class_ownercheck(relid, GetUserId());
}

/* DROP: the owner of the relation or of its schema. */
static bool
user_may_drop_relation(Oid relid)
{
	Oid			nspid = get_rel_namespace(relid);

	return mg_class_ownercheck(relid, GetUserId()) ||
		(OidIsValid(nspid) && mg_namespace_ownercheck(nspid, GetUserId()));
}

/*
 * CLUSTER, REFRESH MATERIALIZED VIEW, REINDEX: the owner, or from 17 on
 * whoever holds MAINTAIN on the table (RangeVarCallbackMaintainsTable).
 */
static bool
user_maintains_relation(Oid relid)
{
	return mg_user_maintains_relation(relid, GetUserId());
}

/*
 * VACUUM FULL: as above, or the owner of the database for a table that is
 * not shared (vacuum_is_permitted_for_relation).
 */
static bool
user_may_vacuum_relation(Oid relid)
{
	return user_maintains_relation(relid) ||
		(mg_database_ownercheck(MyDatabaseId, GetUserId()) &&
		 !IsSharedRelation(relid));
}

/* ----------------------------------------------------------------
 * Analysis that runs no user code and raises no error
 *
 * Some facts need PostgreSQL's parse analysis (a DEFAULT, a USING
 * expression, a partition bound) or its constant folding and predicate
 * proofs (CHECK constraints).  Both may call functions: type input and
 * typmod functions while transforming, any immutable function while
 * folding, comparison operators while proving.  migguard never calls one
 * that is not PostgreSQL's own (OID below FirstNormalObjectId): a CHECK
 * written by a table's owner would otherwise run with the privileges of
 * whoever runs the DDL or migguard.check().  (Transforming a DEFAULT or a
 * USING expression still reads a literal with its type's input function,
 * as the parser does: a base type and its C input function can only be
 * created by a superuser, so that code is trusted as the type itself is;
 * typmod functions of non-core types are not called.)  And the analysis
 * must never raise the error PostgreSQL raises a moment later itself, with
 * its statement text and cursor: parse analysis runs in an internal
 * subtransaction, and when it fails the fact is simply not judged.
 * ----------------------------------------------------------------
 */

static bool
object_is_builtin(Oid objectid)
{
	return objectid < FirstNormalObjectId;
}

/*
 * Whether the input (and typmod) functions of a type, and of the types its
 * input function reads, are PostgreSQL's own.  A domain is refused: its
 * CHECK expressions are evaluated on coercion.
 */
static bool
type_input_is_builtin(Oid typid)
{
	HeapTuple	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	Form_pg_type typ;
	bool		result;

	if (!HeapTupleIsValid(tup))
		return false;
	typ = (Form_pg_type) GETSTRUCT(tup);
	result = typ->typtype != TYPTYPE_DOMAIN &&
		!OidIsValid(typ->typrelid) &&
		object_is_builtin(typ->typinput) &&
		object_is_builtin(typ->typoutput) &&
		object_is_builtin(typ->typmodin) &&
		object_is_builtin(typ->typmodout);
	if (result && OidIsValid(typ->typelem) && IsTrueArrayType(typ))
		result = type_input_is_builtin(typ->typelem);
	ReleaseSysCache(tup);
	if (result && type_is_range(typid))
		result = type_input_is_builtin(get_range_subtype(typid));
	return result;
}

static bool
function_is_foreign(Oid funcid, void *context)
{
	return !object_is_builtin(funcid);
}

/*
 * Walker: true when the expression names a function, operator, domain or
 * constant type that is not PostgreSQL's own.  check_functions_in_node
 * visits every function an expression can call, the I/O functions of
 * CoerceViaIO included; operators are checked too, because predicate
 * proofs look up their btree families and commutators.
 */
static bool
contains_foreign_code_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (check_functions_in_node(node, function_is_foreign, context))
		return true;
	switch (nodeTag(node))
	{
		case T_OpExpr:
		case T_DistinctExpr:
		case T_NullIfExpr:
			if (!object_is_builtin(((OpExpr *) node)->opno))
				return true;
			break;
		case T_ScalarArrayOpExpr:
			if (!object_is_builtin(((ScalarArrayOpExpr *) node)->opno))
				return true;
			break;
		case T_RowCompareExpr:
			{
				ListCell   *lc;

				foreach(lc, ((RowCompareExpr *) node)->opnos)
					if (!object_is_builtin(lfirst_oid(lc)))
						return true;
				break;
			}
		case T_CoerceToDomain:
			if (!object_is_builtin(((CoerceToDomain *) node)->resulttype))
				return true;
			break;
		case T_Const:
			/* deparsing a constant calls its type's output function */
			if (!type_input_is_builtin(((Const *) node)->consttype))
				return true;
			break;
		case T_SubLink:
		case T_Param:
			return true;
		default:
			break;
	}
	return expression_tree_walker(node, contains_foreign_code_walker, context);
}

/* Whether folding, proving or deparsing expr could run non-core code. */
static bool
contains_foreign_code(Node *expr)
{
	return contains_foreign_code_walker(expr, NULL);
}

/*
 * Analysis that may raise PostgreSQL's own error: true when fn completed.
 * On false PostgreSQL raises the same error itself when it runs the
 * statement, with its statement text and cursor, so the fact is not judged.
 */
static bool
analysis_succeeds(void (*fn) (void *), void *arg)
{
	return migguard_run_in_subtransaction(fn, arg) == NULL;
}

/*
 * A type named in a statement, with its typmod, resolved without running a
 * typmod function that is not PostgreSQL's own.  Call inside
 * analysis_succeeds: an invalid typmod raises.
 */
static bool
lookup_type_safely(TypeName *typeName, Oid *typoid, int32 *typmod)
{
	Type		typtup = LookupTypeName(NULL, typeName, NULL, true);

	if (typtup == NULL)
		return false;
	*typoid = typeTypeId(typtup);
	ReleaseSysCache(typtup);
	if (typeName->typmods != NIL &&
		!object_is_builtin(get_typmodin(*typoid)))
		return false;
	typenameTypeIdAndMod(NULL, typeName, typoid, typmod);
	return true;
}

/* format_type_with_typemod, unless the type's typmodout is not core's. */
static char *
type_sql_name(Oid typoid, int32 typmod)
{
	HeapTuple	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typoid));
	bool		builtin_out = true;

	if (HeapTupleIsValid(tup))
	{
		builtin_out = object_is_builtin(((Form_pg_type) GETSTRUCT(tup))->typmodout);
		ReleaseSysCache(tup);
	}
	return builtin_out ? format_type_with_typemod(typoid, typmod) :
		format_type_be(typoid);
}

/* Whether relid has a column (or system column) of that name. */
static bool
column_exists(const MigguardAnalysis *cx, Oid relid, const char *name)
{
	HeapTuple	tup = SearchSysCacheAttName(relid, name);

	if (!HeapTupleIsValid(tup))
		return migguard_script_added_column(cx, relid, name);
	ReleaseSysCache(tup);
	return true;
}

/* The table of a pg_constraint row (InvalidOid for a domain's). */
static Oid
constraint_relid(Oid conoid)
{
	HeapTuple	tup = SearchSysCache1(CONSTROID, ObjectIdGetDatum(conoid));
	Oid			relid = InvalidOid;

	if (HeapTupleIsValid(tup))
	{
		relid = ((Form_pg_constraint) GETSTRUCT(tup))->conrelid;
		ReleaseSysCache(tup);
	}
	return relid;
}

/* The relation a rewrite rule belongs to (a view's _RETURN rule: the view). */
static Oid
rule_relid(Oid ruleoid)
{
	Relation	rewrel = table_open(RewriteRelationId, AccessShareLock);
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	Oid			relid = InvalidOid;

	ScanKeyInit(&key, Anum_pg_rewrite_oid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(ruleoid));
	scan = systable_beginscan(rewrel, RewriteOidIndexId, true, NULL, 1, &key);
	if (HeapTupleIsValid(tup = systable_getnext(scan)))
		relid = ((Form_pg_rewrite) GETSTRUCT(tup))->ev_class;
	systable_endscan(scan);
	table_close(rewrel, AccessShareLock);
	return relid;
}

/* Whether relid has a primary key index (primary) or a clustered index. */
static bool
relation_has_index_marked(Oid relid, bool primary)
{
	Relation	indrel = table_open(IndexRelationId, AccessShareLock);
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	bool		found = false;

	ScanKeyInit(&key, Anum_pg_index_indrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(indrel, IndexIndrelidIndexId, true, NULL, 1, &key);
	while (!found && HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_index index = (Form_pg_index) GETSTRUCT(tup);

		found = primary ? index->indisprimary : index->indisclustered;
	}
	systable_endscan(scan);
	table_close(indrel, AccessShareLock);
	return found;
}

/* A typed table (CREATE TABLE ... OF type): its columns are the type's. */
static bool
relation_is_typed(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	bool		result = false;

	if (HeapTupleIsValid(tup))
	{
		result = OidIsValid(((Form_pg_class) GETSTRUCT(tup))->reloftype);
		ReleaseSysCache(tup);
	}
	return result;
}

/*
 * The relation of that name in a schema, read from pg_class's index
 * rather than the syscache: a name that does not exist would leave a
 * negative cache entry behind, and check() of a script that creates a
 * hundred thousand indexes must not leave a hundred thousand.
 */
static Oid
relation_named(const char *name, Oid nspid)
{
	Relation	classrel = table_open(RelationRelationId, AccessShareLock);
	SysScanDesc scan;
	ScanKeyData key[2];
	HeapTuple	tup;
	Oid			relid = InvalidOid;

	ScanKeyInit(&key[0], Anum_pg_class_relname, BTEqualStrategyNumber,
				F_NAMEEQ, CStringGetDatum(name));
	ScanKeyInit(&key[1], Anum_pg_class_relnamespace, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(nspid));
	scan = systable_beginscan(classrel, ClassNameNspIndexId, true, NULL, 2, key);
	if (HeapTupleIsValid(tup = systable_getnext(scan)))
		relid = ((Form_pg_class) GETSTRUCT(tup))->oid;
	systable_endscan(scan);
	table_close(classrel, AccessShareLock);
	return relid;
}

/*
 * A system catalog without allow_system_table_mods: ALTER, CREATE INDEX,
 * DROP, TRUNCATE and RENAME refuse it (RangeVarCallbackForAlterRelation,
 * DefineIndex, truncate_check_rel, ...) before taking any lock.
 */
static bool
catalog_is_protected(Oid relid)
{
	return !allowSystemTableMods && IsCatalogRelationOid(relid);
}

/* An index that implements a constraint: DROP INDEX refuses it. */
static bool
index_backs_constraint(Oid indexid)
{
	Relation	deprel = table_open(DependRelationId, AccessShareLock);
	SysScanDesc scan;
	ScanKeyData key[2];
	HeapTuple	tup;
	bool		found = false;

	ScanKeyInit(&key[0], Anum_pg_depend_classid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(RelationRelationId));
	ScanKeyInit(&key[1], Anum_pg_depend_objid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(indexid));
	scan = systable_beginscan(deprel, DependDependerIndexId, true, NULL, 2, key);
	while (!found && HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);

		found = dep->deptype == DEPENDENCY_INTERNAL &&
			dep->refclassid == ConstraintRelationId;
	}
	systable_endscan(scan);
	table_close(deprel, AccessShareLock);
	return found;
}

/*
 * Whether an object outside the relation depends normally on it, or on
 * its column attnum when attnum > 0 (a view, another table's foreign key,
 * an inheritance child), so that DROP without CASCADE fails in
 * findDependentObjects / reportDependentObjects.  The relation's own
 * constraints and rules go with it.  rules_only: only views and rules
 * count (ALTER COLUMN TYPE: "cannot alter type of a column used by a view
 * or rule").
 */
static bool
relation_has_dependents(Oid relid, AttrNumber attnum, bool rules_only)
{
	Relation	deprel = table_open(DependRelationId, AccessShareLock);
	SysScanDesc scan;
	HeapTuple	tup;
	bool		found = false;

	scan = migguard_dependents_scan(deprel, RelationRelationId, relid,
									attnum > 0 ? attnum : 0);
	while (!found && HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);

		if (rules_only)
			found = dep->classid == RewriteRelationId && rule_relid(dep->objid) != relid;
		else if (dep->deptype != DEPENDENCY_NORMAL)
			continue;
		else if (dep->classid == RelationRelationId)
			found = dep->objid != relid;
		else if (dep->classid == ConstraintRelationId)
			found = constraint_relid(dep->objid) != relid;
		else if (dep->classid == RewriteRelationId)
			found = rule_relid(dep->objid) != relid;
		else
			found = true;
	}
	systable_endscan(scan);
	table_close(deprel, AccessShareLock);
	return found;
}

/* pg_class.relam, the access method of an index. */
static Oid
relation_am(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			amoid = InvalidOid;

	if (HeapTupleIsValid(tup))
	{
		amoid = ((Form_pg_class) GETSTRUCT(tup))->relam;
		ReleaseSysCache(tup);
	}
	return amoid;
}

/*
 * PostgreSQL will reject the statement after it has locked rel: nothing is
 * judged, so that its error is the one to see, but the lock it waits for
 * first is still a fact (lock-queue protection).
 */
static void
refuse_after_lock(MigguardStatement *stmt, MigguardRelation *rel,
				  LOCKMODE lockmode)
{
	List	   *judged = stmt->ops;
	ListCell   *lc;

	stmt->ops = NIL;
	foreach(lc, judged)
	{
		MigguardOp *op = (MigguardOp *) lfirst(lc);

		migguard_add_lock(stmt, op->rel, op->lockmode);
	}
	migguard_add_lock(stmt, rel, lockmode);
}

/* ----------------------------------------------------------------
 * Column facts
 * ----------------------------------------------------------------
 */

/*
 * The validated CHECK constraints of a relation, prepared the way
 * ConstraintImpliedByRelConstraint (tablecmds.c) prepares them, except that
 * a conjunct naming code that is not PostgreSQL's own is left out before
 * anything is folded: eval_const_expressions would call an owner's
 * IMMUTABLE function with the privileges of whoever runs the analysis.
 * Fewer premises can only prove less, so leaving one out is conservative.
 */
static List *
validated_check_constraints(Oid relid)
{
	Relation	conrel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	List	   *result = NIL;

	conrel = table_open(ConstraintRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_constraint_conrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(conrel, ConstraintRelidTypidNameIndexId, true,
							  NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tup);
		Datum		bin;
		bool		isnull;
		ListCell   *lc;

		if (con->contype != CONSTRAINT_CHECK || !con->convalidated)
			continue;
		bin = heap_getattr(tup, Anum_pg_constraint_conbin,
						   RelationGetDescr(conrel), &isnull);
		if (isnull)
			continue;
		foreach(lc, make_ands_implicit((Expr *) stringToNode(TextDatumGetCString(bin))))
		{
			Node	   *expr = (Node *) lfirst(lc);

			if (contains_foreign_code(expr))
				continue;
			expr = eval_const_expressions(NULL, expr);
			expr = (Node *) canonicalize_qual((Expr *) expr, true);
			result = list_concat(result, make_ands_implicit((Expr *) expr));
		}
	}
	systable_endscan(scan);
	table_close(conrel, AccessShareLock);
	return result;
}

/*
 * What a relation's own constraints guarantee: IS NOT NULL for each NOT
 * NULL column and its (core-code) validated CHECK conjuncts, as
 * PartConstraintImpliedByRelConstraint (tablecmds.c) collects them.
 */
static List *
relation_constraint_premises(Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);
	List	   *premises = NIL;

	for (int i = 1; i <= desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i - 1);

		if (att->attnotnull && !att->attisdropped)
		{
			NullTest   *ntest = makeNode(NullTest);

			ntest->arg = (Expr *) makeVar(1, i, att->atttypid, att->atttypmod,
										  att->attcollation, 0);
			ntest->nulltesttype = IS_NOT_NULL;
			ntest->argisrow = false;
			ntest->location = -1;
			premises = lappend(premises, ntest);
		}
	}
	return list_concat(premises, validated_check_constraints(RelationGetRelid(rel)));
}

typedef struct NotNullProof
{
	Oid			relid;
	Form_pg_attribute att;
	bool		proven;
} NotNullProof;

/*
 * Whether a valid CHECK constraint proves the column NOT NULL, so that
 * SET NOT NULL skips its scan (PostgreSQL 12+, NotNullImpliedByRelConstraints).
 */
static void
prove_not_null_by_check(void *arg)
{
	NotNullProof *proof = (NotNullProof *) arg;
	Form_pg_attribute att = proof->att;
	NullTest   *test = makeNode(NullTest);

	test->arg = (Expr *) makeVar(1, att->attnum, att->atttypid,
								 att->atttypmod, att->attcollation, 0);
	test->nulltesttype = IS_NOT_NULL;
	test->argisrow = false;
	test->location = -1;

	proof->proven = predicate_implied_by(list_make1(test),
										 validated_check_constraints(proof->relid),
										 true);
}

static void
add_set_not_null(MigguardStatement *stmt, MigguardRelation *rel,
				 LOCKMODE lockmode, const char *colname, bool implied)
{
	HeapTuple	tup;
	Form_pg_attribute att;
	MigguardOp *op;
	NotNullProof proof;
	char	   *unvalidated;

	tup = SearchSysCacheAttName(rel->relid, colname);
	if (!HeapTupleIsValid(tup))
		return;
	att = (Form_pg_attribute) GETSTRUCT(tup);
	/* ATExecSetNotNull: "cannot alter system column" is PostgreSQL's. */
	if (att->attnum <= 0)
	{
		ReleaseSysCache(tup);
		return;
	}
	/* 18: a NOT VALID NOT NULL constraint is validated now, by a scan. */
	unvalidated = att->attnotnull ?
		mg_unvalidated_not_null(rel->relid, att->attnum) : NULL;

	proof.relid = rel->relid;
	proof.att = att;
	proof.proven = false;
	/*
	 * Folding a CHECK can fail (a division by zero in a constant): then
	 * PostgreSQL fails the same way, and its error is the one to see.
	 */
	if (!att->attnotnull && rel->relkind != RELKIND_FOREIGN_TABLE &&
		!analysis_succeeds(prove_not_null_by_check, &proof))
	{
		ReleaseSysCache(tup);
		return;
	}

	op = migguard_add_op(stmt, MG_OP_SET_NOT_NULL, lockmode, rel);
	op->column = pstrdup(colname);
	if (implied)
		op->flags |= MG_F_IMPLIED;
	op->constraint_name = unvalidated;
	/* A foreign table's NOT NULL is not checked (ATRewriteTables: no storage). */
	if ((att->attnotnull && unvalidated == NULL) ||
		rel->relkind == RELKIND_FOREIGN_TABLE)
		op->flags |= MG_F_NO_OP;
	else if (proof.proven)
		op->flags |= MG_F_PROVEN;
	ReleaseSysCache(tup);
}

/*
 * Copy of tablecmds.c's ATColumnChangeRequiresRewrite (static there):
 * whether the planned conversion expression needs the table rewritten.
 */
static bool
column_change_requires_rewrite(Node *expr, AttrNumber varattno)
{
	for (;;)
	{
		if (IsA(expr, Var) && ((Var *) expr)->varattno == varattno)
			return false;
		else if (IsA(expr, RelabelType))
			expr = (Node *) ((RelabelType *) expr)->arg;
		else if (IsA(expr, CoerceToDomain))
		{
			CoerceToDomain *d = (CoerceToDomain *) expr;

			if (mg_domain_has_constraints(d->resulttype))
				return true;
			expr = (Node *) d->arg;
		}
		else if (IsA(expr, FuncExpr))
		{
			FuncExpr   *f = (FuncExpr *) expr;

			switch (f->funcid)
			{
				case F_TIMESTAMPTZ_TIMESTAMP:
				case F_TIMESTAMP_TIMESTAMPTZ:
					if (TimestampTimestampTzRequiresRewrite())
						return true;
					expr = linitial(f->args);
					break;
				default:
					return true;
			}
		}
		else
			return true;
	}
}

/*
 * Whether an index on the column survives a type change without a rebuild:
 * PostgreSQL reuses it only when the new type's default operator class and
 * the collation stay the same, and never for expression or partial indexes
 * (CheckIndexCompatible).
 */
static bool
type_change_rebuilds_indexes(Oid relid, AttrNumber attnum, Oid newtype,
							 Oid oldcoll, Oid newcoll)
{
	Relation	indrel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	bool		rebuild = false;

	indrel = table_open(IndexRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_index_indrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(indrel, IndexIndrelidIndexId, true, NULL, 1, &key);
	while (!rebuild && HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_index index = (Form_pg_index) GETSTRUCT(tup);
		bool		isnull;
		Datum		classes;
		oidvector  *indclass;
		Oid			amoid = relation_am(index->indexrelid);
		bool		has_exprs;

		has_exprs = !heap_attisnull(tup, Anum_pg_index_indexprs, NULL) ||
			!heap_attisnull(tup, Anum_pg_index_indpred, NULL);
		classes = heap_getattr(tup, Anum_pg_index_indclass,
							   RelationGetDescr(indrel), &isnull);
		indclass = (oidvector *) DatumGetPointer(classes);

		for (int i = 0; i < index->indnatts; i++)
		{
			if (index->indkey.values[i] != attnum)
				continue;
			if (has_exprs || oldcoll != newcoll ||
				(i < index->indnkeyatts &&
				 GetDefaultOpClass(newtype, amoid) != indclass->values[i]))
				rebuild = true;
		}
		/* An expression index that mentions the column is rebuilt too. */
		if (!rebuild && has_exprs)
		{
			Datum		exprs = heap_getattr(tup, Anum_pg_index_indexprs,
											 RelationGetDescr(indrel), &isnull);
			Bitmapset  *attrs = NULL;

			if (!isnull)
				pull_varattnos(stringToNode(TextDatumGetCString(exprs)), 1, &attrs);
			if (bms_is_member(attnum - FirstLowInvalidHeapAttributeNumber, attrs))
				rebuild = true;
		}
	}
	systable_endscan(scan);
	table_close(indrel, AccessShareLock);
	return rebuild;
}

/* What ALTER COLUMN TYPE needs to know, found in a subtransaction. */
typedef struct TypeChange
{
	MigguardAnalysis *cx;
	MigguardRelation *rel;
	LOCKMODE	lockmode;
	AlterTableCmd *cmd;
	bool		judged;			/* the column and type exist, a cast does */
	char	   *type_name;
	uint32		flags;
} TypeChange;

/*
 * The type change as ATPrepAlterColumnType sees it: the target type, the
 * transformed USING expression (or the column itself) coerced to it, and
 * whether the planned expression needs the table rewritten.  Folding runs
 * only over PostgreSQL's own code; a USING that calls anything else is
 * assumed to rewrite.
 */
static void
analyze_type_change(void *arg)
{
	TypeChange *tc = (TypeChange *) arg;
	ColumnDef  *def = (ColumnDef *) tc->cmd->def;
	MigguardRelation *rel = tc->rel;
	HeapTuple	atttup;
	Form_pg_attribute att;
	int32		targettypmod;
	Oid			targettype;
	Oid			targetcoll;
	ParseState *pstate;
	Node	   *transform;
	Relation	relation = NULL;

	atttup = SearchSysCacheAttName(rel->relid, tc->cmd->name);
	if (!HeapTupleIsValid(atttup))
		return;
	att = (Form_pg_attribute) GETSTRUCT(atttup);
	/* ATPrepAlterColumnType and ATExecAlterColumnType refuse these. */
	if (att->attnum <= 0 || att->attinhcount > 0 ||
		relation_has_dependents(rel->relid, att->attnum, true) ||
		!lookup_type_safely(def->typeName, &targettype, &targettypmod))
	{
		ReleaseSysCache(atttup);
		return;					/* PostgreSQL reports it */
	}
	targetcoll = def->collClause ?
		get_collation_oid(def->collClause->collname, true) :
		get_typcollation(targettype);
	tc->type_name = type_sql_name(targettype, targettypmod);

	pstate = make_parsestate(NULL);
	if (def->raw_default != NULL)
	{
		ParseNamespaceItem *nsitem;

		/*
		 * A USING expression may name any column, so it is transformed
		 * against the relation as ATPrepAlterColumnType does, which needs
		 * the relation open: take the statement's own lock, only if it is
		 * free now.  When it is not, assume the rewrite.
		 */
		if (!migguard_probe_relation(tc->cx, rel->relid, tc->lockmode))
		{
			tc->judged = true;
			tc->flags |= MG_F_REWRITES;
			ReleaseSysCache(atttup);
			return;
		}
		relation = relation_open(rel->relid, NoLock);
		nsitem = addRangeTableEntryForRelation(pstate, relation,
											   AccessShareLock, NULL,
											   false, true);
		addNSItemToQuery(pstate, nsitem, false, true, true);
		transform = transformExpr(pstate, copyObject(def->raw_default),
								  EXPR_KIND_ALTER_COL_TRANSFORM);
	}
	else
		transform = (Node *) makeVar(1, att->attnum, att->atttypid,
									 att->atttypmod, att->attcollation, 0);

	transform = coerce_to_target_type(pstate, transform,
									  exprType(transform),
									  targettype, targettypmod,
									  COERCION_ASSIGNMENT,
									  COERCE_IMPLICIT_CAST, -1);
	if (transform != NULL)
	{
		/* No cast (NULL): PostgreSQL raises its own error. */
		tc->judged = true;
		assign_expr_collations(pstate, transform);
		if (contains_foreign_code(transform))
			tc->flags |= MG_F_REWRITES;
		else
		{
			transform = (Node *) expression_planner((Expr *) transform);
			if (column_change_requires_rewrite(transform, att->attnum))
				tc->flags |= MG_F_REWRITES;
			else if (type_change_rebuilds_indexes(rel->relid, att->attnum,
												  targettype, att->attcollation,
												  targetcoll))
				tc->flags |= MG_F_REBUILDS_INDEXES;
		}
	}
	free_parsestate(pstate);
	if (relation)
		relation_close(relation, NoLock);
	ReleaseSysCache(atttup);
}

static void
classify_alter_column_type(MigguardStatement *stmt, MigguardRelation *rel,
						   LOCKMODE lockmode, AlterTableCmd *cmd)
{
	TypeChange	tc = {stmt->analysis, rel, lockmode, cmd, false, NULL, 0};
	MigguardOp *op;

	/*
	 * A foreign table has no rows or indexes here to rewrite (and USING is
	 * PostgreSQL's error there: "only supported on plain tables").
	 */
	if (rel->relkind == RELKIND_FOREIGN_TABLE)
		return;
	if (!analysis_succeeds(analyze_type_change, &tc) || !tc.judged)
		return;
	op = migguard_add_op(stmt, MG_OP_ALTER_COLUMN_TYPE, lockmode, rel);
	op->column = pstrdup(cmd->name);
	op->new_type = tc.type_name;
	op->flags |= tc.flags;
}

static bool
type_name_is_serial(TypeName *typeName)
{
	const char *name;

	if (list_length(typeName->names) != 1 || typeName->pct_type)
		return false;
	name = strVal(linitial(typeName->names));
	return strcmp(name, "smallserial") == 0 || strcmp(name, "serial2") == 0 ||
		strcmp(name, "serial") == 0 || strcmp(name, "serial4") == 0 ||
		strcmp(name, "bigserial") == 0 || strcmp(name, "serial8") == 0;
}

/* The column type and DEFAULT of an ADD COLUMN, found in a subtransaction. */
typedef struct NewColumn
{
	ColumnDef  *def;
	Node	   *raw_default;
	bool		typed;			/* the type exists */
	Oid			typoid;
	char	   *type_name;
	bool		domain_constraints;
	bool		domain_default;
	bool		volatile_default;
	char	   *default_text;
} NewColumn;

/*
 * The new column's type, and whether its DEFAULT, cooked the way
 * ATExecAddColumn cooks it, is volatile (and so defeats the PostgreSQL 11
 * fast default).  Nothing is evaluated: cooking only resolves names and
 * builds the coercion.  A default that names code which is not
 * PostgreSQL's own is not deparsed (deparsing a constant calls its type's
 * output function); the hint then shows a placeholder.
 */
static void
analyze_new_column(void *arg)
{
	NewColumn  *nc = (NewColumn *) arg;
	int32		typmod = -1;
	ParseState *pstate;
	Node	   *expr;

	if (!lookup_type_safely(nc->def->typeName, &nc->typoid, &typmod))
		return;
	nc->typed = true;
	nc->type_name = type_sql_name(nc->typoid, typmod);
	if (get_typtype(nc->typoid) == TYPTYPE_DOMAIN)
	{
		HeapTuple	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(nc->typoid));

		/* A domain's DEFAULT fills existing rows and inserts alike. */
		if (HeapTupleIsValid(tup))
		{
			nc->domain_default = !heap_attisnull(tup, Anum_pg_type_typdefaultbin, NULL);
			ReleaseSysCache(tup);
		}
		if (mg_domain_has_constraints(nc->typoid))
		{
			nc->domain_constraints = true;
			/* The hint adds the column with the domain's base type. */
			nc->type_name = format_type_be(getBaseType(nc->typoid));
		}
	}
	if (nc->raw_default == NULL)
		return;

	pstate = make_parsestate(NULL);
	expr = transformExpr(pstate, copyObject(nc->raw_default), EXPR_KIND_COLUMN_DEFAULT);
	expr = coerce_to_target_type(pstate, expr, exprType(expr), nc->typoid, typmod,
								 COERCION_ASSIGNMENT, COERCE_IMPLICIT_CAST, -1);
	if (expr != NULL)
	{
		nc->volatile_default = contain_volatile_functions(expr);
		/* The default as SQL, for the hint's SET DEFAULT and backfill. */
		if (!contains_foreign_code(expr))
			nc->default_text = deparse_expression(expr, NIL, false, false);
	}
	free_parsestate(pstate);
}

/* The plain integer type behind serial, bigserial and smallserial. */
static const char *
serial_base_type(TypeName *typeName)
{
	const char *name = strVal(linitial(typeName->names));

	if (strcmp(name, "bigserial") == 0 || strcmp(name, "serial8") == 0)
		return "bigint";
	if (strcmp(name, "smallserial") == 0 || strcmp(name, "serial2") == 0)
		return "smallint";
	return "integer";
}

static void add_constraint(MigguardStatement *stmt, MigguardRelation *rel,
						   LOCKMODE lockmode, Constraint *con,
						   const char *column);

/*
 * ADD COLUMN.  with_identity: a later subcommand of the same ALTER TABLE
 * makes the column an identity (ADD GENERATED ... AS IDENTITY): inserts
 * that do not name it get a value, so deployed code keeps working; rows
 * already there are not filled (with any, PostgreSQL's NOT NULL check
 * fails the statement itself).
 */
static void
classify_add_column(MigguardStatement *stmt, MigguardRelation *rel,
					LOCKMODE lockmode, ColumnDef *def, bool with_identity)
{
	MigguardOp *op;
	ListCell   *lc;
	NewColumn	nc = {0};
	HeapTuple	existing;
	int			first;

	/*
	 * A column of that name already exists: ADD COLUMN IF NOT EXISTS does
	 * nothing (check_for_column_name_collision; without IF NOT EXISTS the
	 * whole ALTER was refused already).
	 */
	existing = SearchSysCacheAttName(rel->relid, def->colname);
	if (HeapTupleIsValid(existing))
	{
		ReleaseSysCache(existing);
		return;
	}

	nc.def = def;
	nc.raw_default = def->raw_default;
	first = list_length(stmt->ops);
	op = migguard_add_op(stmt, MG_OP_ADD_COLUMN, lockmode, rel);
	op->column = pstrdup(def->colname);

	if (def->is_not_null)
		op->flags |= MG_F_NOT_NULL;
	if (def->identity)
		op->flags |= MG_F_IDENTITY | MG_F_HAS_DEFAULT;
	/* New rows get a value; existing ones are not filled (nor rewritten). */
	if (with_identity)
		op->flags |= MG_F_HAS_DEFAULT;

	foreach(lc, def->constraints)
	{
		Constraint *con = lfirst_node(Constraint, lc);

		switch (con->contype)
		{
			case CONSTR_NOTNULL:
				op->flags |= MG_F_NOT_NULL;
				break;
			case CONSTR_DEFAULT:
				nc.raw_default = con->raw_expr;
				break;
			case CONSTR_IDENTITY:
				op->flags |= MG_F_IDENTITY | MG_F_HAS_DEFAULT;
				break;
			case CONSTR_GENERATED:
				op->flags |= MG_F_HAS_DEFAULT;
				if (MG_GENERATED_IS_STORED(con))
					op->flags |= MG_F_STORED_GENERATED;
				break;
			case CONSTR_PRIMARY:
				op->flags |= MG_F_NOT_NULL;
				add_constraint(stmt, rel, lockmode, con, def->colname);
				break;
			case CONSTR_UNIQUE:
			case CONSTR_CHECK:
			case CONSTR_FOREIGN:
			case CONSTR_EXCLUSION:
				add_constraint(stmt, rel, lockmode, con, def->colname);
				break;
			default:
				break;
		}
	}
	/* PostgreSQL does not enforce NOT NULL on a foreign table's rows. */
	if (rel->relkind == RELKIND_FOREIGN_TABLE)
		op->flags &= ~MG_F_NOT_NULL;

	if (type_name_is_serial(def->typeName))
	{
		op->flags |= MG_F_SERIAL | MG_F_HAS_DEFAULT | MG_F_NOT_NULL;
		op->column_type = pstrdup(serial_base_type(def->typeName));
		return;
	}

	op->column_type = TypeNameToString(def->typeName);
	if (nc.raw_default != NULL)
		op->flags |= MG_F_HAS_DEFAULT;
	if (!analysis_succeeds(analyze_new_column, &nc))
	{
		/* PostgreSQL rejects the type or the default itself. */
		stmt->ops = list_truncate(stmt->ops, first);
		return;
	}
	if (!nc.typed)
	{
		/* An unknown type: PostgreSQL's error. */
		stmt->ops = list_truncate(stmt->ops, first);
		return;
	}
	op->column_type = nc.type_name;
	if (nc.domain_constraints)
		op->flags |= MG_F_DOMAIN_CONSTRAINTS;
	if (nc.domain_default)
		op->flags |= MG_F_HAS_DEFAULT;
	if (nc.volatile_default)
		op->flags |= MG_F_VOLATILE_DEFAULT;
	op->default_expr = nc.default_text;
}

/* ----------------------------------------------------------------
 * Constraints
 * ----------------------------------------------------------------
 */

/* The columns of an existing index, for PRIMARY KEY ... USING INDEX. */
static List *
index_column_names(Oid tableid, const char *indexname)
{
	Oid			indexid = get_relname_relid(indexname, get_rel_namespace(tableid));
	HeapTuple	tup;
	List	   *names = NIL;

	if (!OidIsValid(indexid))
		return NIL;
	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexid));
	if (!HeapTupleIsValid(tup))
		return NIL;
	for (int i = 0; i < ((Form_pg_index) GETSTRUCT(tup))->indnkeyatts; i++)
	{
		AttrNumber	attnum = ((Form_pg_index) GETSTRUCT(tup))->indkey.values[i];

		if (attnum > 0)
			names = lappend(names, makeString(get_attname(tableid, attnum, false)));
	}
	ReleaseSysCache(tup);
	return names;
}

/* Whether each name in a list of String is a column of relid. */
static bool
columns_exist(const MigguardAnalysis *cx, Oid relid, List *names)
{
	ListCell   *lc;

	foreach(lc, names)
		if (!column_exists(cx, relid, strVal(lfirst(lc))))
			return false;
	return true;
}

/*
 * A constraint PostgreSQL refuses before any work: key columns that do not
 * exist (transformIndexConstraint, transformFkeyGetPrimaryKey), a second
 * primary key (index_check_primary_key), a foreign key to a table that
 * does not exist or that the user may not reference (checkFkeyPermissions:
 * REFERENCES on the table or on a column of it).
 */
static bool
constraint_refused_by_core(const MigguardAnalysis *cx, Oid relid,
						   Constraint *con, const char *column)
{
	if (column == NULL &&
		(!columns_exist(cx, relid, con->keys) ||
		 !columns_exist(cx, relid, con->including) ||
		 !columns_exist(cx, relid, con->fk_attrs)))
		return true;
	if (con->contype == CONSTR_PRIMARY && relation_has_index_marked(relid, true))
		return true;
	if (con->contype == CONSTR_FOREIGN)
	{
		Oid			refid = migguard_lookup_relid(cx, con->pktable);

		if (!OidIsValid(refid))
			return !migguard_created_in_script(cx, con->pktable);
		if (!columns_exist(cx, refid, con->pk_attrs))
			return true;
		if (mg_class_aclcheck(refid, GetUserId(), ACL_REFERENCES) != ACLCHECK_OK &&
			pg_attribute_aclcheck_all(refid, GetUserId(), ACL_REFERENCES,
									  ACLMASK_ANY) != ACLCHECK_OK)
			return true;
	}
	return false;
}

static void
add_constraint(MigguardStatement *stmt, MigguardRelation *rel,
			   LOCKMODE lockmode, Constraint *con, const char *column)
{
	MigguardOp *op;
	ListCell   *lc;
	List	   *keys;

	if (constraint_refused_by_core(stmt->analysis, rel->relid, con, column))
		return;

	/*
	 * 18's ADD CONSTRAINT name NOT NULL column: NOT VALID is instant;
	 * otherwise the column is checked as by SET NOT NULL
	 * (ATAddCheckNNConstraint queues the same verification).
	 */
	if (con->contype == CONSTR_NOTNULL)
	{
		if (!con->skip_validation)
			foreach(lc, con->keys)
				add_set_not_null(stmt, rel, lockmode, strVal(lfirst(lc)), false);
		return;
	}
	op = migguard_add_op(stmt, MG_OP_ADD_CONSTRAINT, lockmode, rel);

	op->constraint_name = con->conname ? pstrdup(con->conname) : NULL;
	if (column != NULL)
		op->columns = pstrdup(migguard_quote_ident(column));
	else if (con->keys != NIL)
	{
		StringInfoData buf;

		initStringInfo(&buf);
		foreach(lc, con->keys)
			appendStringInfo(&buf, "%s%s", buf.len ? ", " : "",
							 migguard_quote_ident(strVal(lfirst(lc))));
		op->columns = buf.data;
	}
	if (con->skip_validation || MG_CONSTRAINT_NOT_ENFORCED(con))
		op->flags |= MG_F_NOT_VALID;
	if (con->indexname)
		op->flags |= MG_F_USING_INDEX;
	if (MG_CONSTRAINT_WITHOUT_OVERLAPS(con))
		op->flags |= MG_F_WITHOUT_OVERLAPS;

	switch (con->contype)
	{
		case CONSTR_CHECK:
			op->constraint_kind = MG_CON_CHECK;
			break;
		case CONSTR_FOREIGN:
			{
				Oid			refid = migguard_lookup_relid(stmt->analysis, con->pktable);

				op->constraint_kind = MG_CON_FOREIGN_KEY;
				if (OidIsValid(refid))
					op->referenced = migguard_describe_relation(stmt->analysis, refid);
				/* NOT ENFORCED (18): no triggers look up referencing rows. */
				if (!MG_CONSTRAINT_NOT_ENFORCED(con))
					migguard_classify_fk_index(stmt, op, con, column);
				break;
			}
		case CONSTR_UNIQUE:
			op->constraint_kind = MG_CON_UNIQUE;
			break;
		case CONSTR_PRIMARY:
			op->constraint_kind = MG_CON_PRIMARY_KEY;
			break;
		case CONSTR_EXCLUSION:
			op->constraint_kind = MG_CON_EXCLUSION;
			break;
		default:
			stmt->ops = list_delete_last(stmt->ops);
			return;
	}

	/* A primary key makes its columns NOT NULL: a scan unless proven. */
	if (con->contype == CONSTR_PRIMARY && column == NULL)
	{
		keys = con->indexname ? index_column_names(rel->relid, con->indexname)
			: con->keys;
		foreach(lc, keys)
			add_set_not_null(stmt, rel, lockmode, strVal(lfirst(lc)), true);
	}
}

/*
 * Whether an enforced CHECK constraint of relid reads column attnum: 19's
 * SET EXPRESSION on a virtual column checks those against every row.
 */
static bool
enforced_check_reads_column(Oid relid, AttrNumber attnum)
{
	Relation	conrel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	bool		found = false;

	conrel = table_open(ConstraintRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_constraint_conrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(conrel, ConstraintRelidTypidNameIndexId, true,
							  NULL, 1, &key);
	while (!found && HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tup);
		Datum		datum;
		bool		isnull;
		Datum	   *keys;
		int			n;

		if (con->contype != CONSTRAINT_CHECK || !MG_CONSTRAINT_IS_ENFORCED(con))
			continue;
		datum = heap_getattr(tup, Anum_pg_constraint_conkey,
							 RelationGetDescr(conrel), &isnull);
		if (isnull)
			continue;
		deconstruct_array(DatumGetArrayTypeP(datum), INT2OID, sizeof(int16),
						  true, TYPALIGN_SHORT, &keys, NULL, &n);
		for (int i = 0; i < n; i++)
			if (DatumGetInt16(keys[i]) == attnum)
				found = true;
	}
	systable_endscan(scan);
	table_close(conrel, AccessShareLock);
	return found;
}

/* pg_class.relchecks: how many CHECK constraints the relation has. */
static int
relation_check_count(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	int			n = 0;

	if (HeapTupleIsValid(tup))
	{
		n = ((Form_pg_class) GETSTRUCT(tup))->relchecks;
		ReleaseSysCache(tup);
	}
	return n;
}

/*
 * ALTER COLUMN ... SET EXPRESSION.  A stored column is rewritten (the
 * table_rewrite event reports it); a virtual one (18) is not, but
 * ATExecSetExpression has phase 3 check every row when the column is NOT
 * NULL, or (19) when an enforced CHECK constraint reads it: a scan under
 * the ALTER TABLE's lock.  Where PostgreSQL refuses the change (no such
 * column, not generated, 18 with CHECK constraints on the table, a table
 * in a publication) its own error comes first.
 */
static void
classify_set_expression(MigguardStatement *stmt, MigguardRelation *rel,
						LOCKMODE lockmode, const char *colname)
{
	HeapTuple	tup = SearchSysCacheAttName(rel->relid, colname);
	Form_pg_attribute att;
	MigguardConstraintKind checked = MG_CON_NONE;
	MigguardOp *op;

	if (!HeapTupleIsValid(tup))
		return;
	att = (Form_pg_attribute) GETSTRUCT(tup);
	if (MG_ATTRIBUTE_IS_VIRTUAL(att) &&
		(MG_SET_EXPRESSION_CHECKS_CHECKS || relation_check_count(rel->relid) == 0) &&
		mg_relation_publications(rel->relid) == NIL)
	{
		if (att->attnotnull)
			checked = MG_CON_NOT_NULL;
		else if (MG_SET_EXPRESSION_CHECKS_CHECKS &&
				 enforced_check_reads_column(rel->relid, att->attnum))
			checked = MG_CON_CHECK;
	}
	ReleaseSysCache(tup);
	if (checked == MG_CON_NONE)
		return;
	op = migguard_add_op(stmt, MG_OP_ADD_CONSTRAINT, lockmode, rel);
	op->constraint_kind = checked;
	op->column = pstrdup(colname);
	op->columns = pstrdup(migguard_quote_ident(colname));
	op->flags |= MG_F_SET_EXPRESSION;
}

/* ----------------------------------------------------------------
 * Partitions
 * ----------------------------------------------------------------
 */

/*
 * Whether the partition key reads only PostgreSQL's own code: key types
 * whose input functions are core's (transformPartitionBoundValue calls
 * them), core operator families (the partition constraint's operators),
 * and key expressions with core functions only.
 */
static bool
partition_key_exprs_are_core(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(PARTRELID, ObjectIdGetDatum(relid));
	bool		isnull;
	Datum		exprs;
	bool		result = true;

	if (!HeapTupleIsValid(tup))
		return false;
	exprs = SysCacheGetAttr(PARTRELID, tup, Anum_pg_partitioned_table_partexprs,
							&isnull);
	if (!isnull)
		result = !contains_foreign_code(stringToNode(TextDatumGetCString(exprs)));
	ReleaseSysCache(tup);
	return result;
}

static bool
partition_key_is_core(Relation parent)
{
	PartitionKey key;
	ListCell   *lc;

	/*
	 * Building the relcache's partition key folds its expressions
	 * (RelationBuildPartitionKey), and so does the partition qual of every
	 * ancestor: read the catalog first, and touch neither unless their
	 * expressions are core code.
	 */
	if (!partition_key_exprs_are_core(RelationGetRelid(parent)))
		return false;
	foreach(lc, get_partition_ancestors(RelationGetRelid(parent)))
		if (!partition_key_exprs_are_core(lfirst_oid(lc)))
			return false;
	key = RelationGetPartitionKey(parent);

	for (int i = 0; i < key->partnatts; i++)
		if (!type_input_is_builtin(key->parttypid[i]) ||
			!object_is_builtin(key->partopfamily[i]))
			return false;
	return true;
}

/*
 * Whether a raw bound value is a literal, which transformPartitionBoundValue
 * turns into a constant with the key type's input function or a core cast
 * and nothing else: a string or number, NULL, MINVALUE / MAXVALUE, or a
 * literal cast to the key's own type.  Anything else (nextval('s'),
 * length(pg_sleep(3)::text)) would be evaluated, and evaluating it is
 * PostgreSQL's job, once, when the statement runs.
 */
static bool
bound_value_is_literal(Node *value, Oid keytype)
{
	if (IsA(value, ColumnRef))
	{
		ColumnRef  *cref = (ColumnRef *) value;
		const char *name;

		if (list_length(cref->fields) != 1 || !IsA(linitial(cref->fields), String))
			return false;
		name = strVal(linitial(cref->fields));
		return strcmp(name, "minvalue") == 0 || strcmp(name, "maxvalue") == 0;
	}
	if (IsA(value, TypeCast))
	{
		TypeCast   *cast = (TypeCast *) value;

		return IsA(cast->arg, A_Const) && cast->typeName->typmods == NIL &&
			LookupTypeNameOid(NULL, cast->typeName, true) == keytype;
	}
	if (IsA(value, A_Const))
	{
		A_Const    *c = (A_Const *) value;
		Oid			littypes[2] = {InvalidOid, InvalidOid};

		/* A string is unknown until the key type's input function reads it. */
		if (c->isnull || IsA(&c->val, String))
			return true;
		switch (nodeTag(&c->val))
		{
			case T_Integer:
				littypes[0] = INT4OID;
				break;
			case T_Float:
				littypes[0] = INT8OID;
				littypes[1] = NUMERICOID;
				break;
			case T_Boolean:
				littypes[0] = BOOLOID;
				break;
			case T_BitString:
				littypes[0] = BITOID;
				break;
			default:
				return false;
		}
		for (int i = 0; i < 2 && OidIsValid(littypes[i]); i++)
		{
			Oid			funcid = InvalidOid;

			if (littypes[i] != keytype &&
				find_coercion_pathway(keytype, littypes[i], COERCION_ASSIGNMENT,
									  &funcid) == COERCION_PATH_FUNC &&
				!object_is_builtin(funcid))
				return false;
		}
		return true;
	}
	return false;
}

static bool
bound_is_literal(Relation parent, PartitionBoundSpec *bound)
{
	PartitionKey key = RelationGetPartitionKey(parent);
	List	   *lists[3] = {bound->listdatums, bound->lowerdatums, bound->upperdatums};

	for (int l = 0; l < 3; l++)
	{
		ListCell   *lc;
		int			i = 0;

		foreach(lc, lists[l])
		{
			/* a list bound's values are all of the first key column */
			Oid			keytype = key->parttypid[l == 0 ? 0 : Min(i, key->partnatts - 1)];

			if (!bound_value_is_literal((Node *) lfirst(lc), keytype))
				return false;
			i++;
		}
	}
	return true;
}

/*
 * Whether scanrel's constraints imply the partition constraint qual (in
 * the parent's attribute numbers), as ATExecAttachPartition and
 * PartConstraintImpliedByRelConstraint decide it.
 */
static bool
partition_constraint_implied(Relation scanrel, Relation parent, List *qual)
{
	if (qual == NIL)
		return true;
	if (contains_foreign_code((Node *) qual))
		return false;
	qual = (List *) eval_const_expressions(NULL, (Node *) qual);
	qual = list_make1(make_ands_explicit(qual));
	qual = map_partition_varattnos(qual, 1, scanrel, parent);
	return predicate_implied_by(qual, relation_constraint_premises(scanrel), true);
}

typedef struct BoundProof
{
	MigguardAnalysis *cx;
	Oid			parentid;
	LOCKMODE	parent_lock;
	Oid			partid;
	Oid			defaultid;
	PartitionBoundSpec *bound;
	char	   *partname;		/* the partition's name, for check messages */
	bool		part_scans;		/* in: the conservative answer; out: proven */
	bool		default_scans;
} BoundProof;

/*
 * ATTACH PARTITION and CREATE TABLE ... PARTITION OF scan the new partition
 * (ATTACH only) and the default partition under ACCESS EXCLUSIVE unless
 * their valid constraints already imply the bound.  Proving that needs the
 * relations open, so we take the very locks PostgreSQL takes next, in its
 * order, and only if they are free right now; when they are not, or the
 * bound is not a literal, the scan is assumed (the conservative answer)
 * and no one waits on us.  Runs in a subtransaction: an error here
 * (an empty range, a value of the wrong type, a partition that lacks a
 * column) is PostgreSQL's to raise, with its cursor.
 */
static void
prove_partition_bound(void *arg)
{
	BoundProof *p = (BoundProof *) arg;
	Relation	prel;
	ParseState *pstate;
	PartitionBoundSpec *spec;
	List	   *qual;

	if (!migguard_probe_relation(p->cx, p->parentid, p->parent_lock) ||
		(OidIsValid(p->partid) &&
		 !migguard_probe_relation(p->cx, p->partid, AccessExclusiveLock)))
		return;
	prel = relation_open(p->parentid, NoLock);
	if (!partition_key_is_core(prel) || !bound_is_literal(prel, p->bound))
	{
		relation_close(prel, NoLock);
		return;
	}

	/*
	 * As DefineRelation and ATExecAttachPartition do: transform, then check
	 * the bound against the existing partitions (empty ranges, overlaps),
	 * so that any of those errors is left to PostgreSQL.
	 */
	pstate = make_parsestate(NULL);
	spec = transformPartitionBound(pstate, prel, copyObject(p->bound));
	check_new_partition_bound(p->partname, prel, spec, pstate);
	free_parsestate(pstate);
	qual = get_qual_from_partbound(prel, spec);

	if (OidIsValid(p->partid))
	{
		Relation	arel = relation_open(p->partid, NoLock);

		p->part_scans = !partition_constraint_implied(arel, prel,
													  list_concat(list_copy(qual),
																  RelationGetPartitionQual(prel)));
		relation_close(arel, NoLock);
	}
	if (p->default_scans && !contains_foreign_code((Node *) qual) &&
		migguard_caller_may_see(p->cx, p->defaultid) &&
		migguard_probe_relation(p->cx, p->defaultid, AccessExclusiveLock))
	{
		Relation	drel = relation_open(p->defaultid, NoLock);

		p->default_scans = !partition_constraint_implied(drel, prel,
														 get_proposed_default_constraint(qual));
		relation_close(drel, NoLock);
	}
	relation_close(prel, NoLock);
}

static void
classify_partition_bound(MigguardStatement *stmt, MigguardRelation *parent,
						 LOCKMODE parent_lock, Oid partid, char *partname,
						 PartitionBoundSpec *bound)
{
	BoundProof	p;
	MigguardOp *op;

	p.cx = stmt->analysis;
	p.parentid = parent->relid;
	p.parent_lock = parent_lock;
	p.partid = partid;
	p.defaultid = get_default_partition_oid(parent->relid);
	p.bound = bound;
	p.partname = partname;
	p.part_scans = OidIsValid(partid);
	p.default_scans = OidIsValid(p.defaultid) && !bound->is_default;

	if (!analysis_succeeds(prove_partition_bound, &p))
		return;

	if (OidIsValid(partid))
	{
		op = migguard_add_op(stmt, MG_OP_ATTACH_PARTITION, AccessExclusiveLock,
					migguard_describe_relation(stmt->analysis, partid));
		op->parent = parent;
		if (p.part_scans)
			op->flags |= MG_F_SCANS;
	}
	if (p.default_scans)
	{
		op = migguard_add_op(stmt, MG_OP_ATTACH_PARTITION, AccessExclusiveLock,
					migguard_describe_relation(stmt->analysis, p.defaultid));
		op->parent = parent;
		op->flags |= MG_F_SCANS | MG_F_DEFAULT_PARTITION;
	}
}

/* ----------------------------------------------------------------
 * Statements
 * ----------------------------------------------------------------
 */

/*
 * Whether every column an index names exists (ComputeIndexAttrs raises
 * "column ... does not exist" itself).  Expressions are not checked.
 */
static bool
index_columns_exist(const MigguardAnalysis *cx, Oid relid, List *params)
{
	ListCell   *lc;

	foreach(lc, params)
	{
		IndexElem  *elem = lfirst_node(IndexElem, lc);

		if (elem->name != NULL && !column_exists(cx, relid, elem->name))
			return false;
	}
	return true;
}

static void
classify_index_stmt(MigguardStatement *stmt, IndexStmt *index)
{
	Oid			relid = migguard_lookup_relid(stmt->analysis, index->relation);
	Oid			existing = InvalidOid;
	MigguardRelation *rel;
	MigguardOp *op;

	if (!OidIsValid(relid) || !user_owns_relation(relid) || catalog_is_protected(relid) ||
		!index_columns_exist(stmt->analysis, relid, index->indexParams) ||
		!index_columns_exist(stmt->analysis, relid, index->indexIncludingParams))
		return;
	if (index->idxname)
		existing = relation_named(index->idxname, get_rel_namespace(relid));
	/* index_create: "relation ... already exists" is PostgreSQL's error */
	if (OidIsValid(existing) && !index->if_not_exists)
		return;
	rel = migguard_describe_relation(stmt->analysis, relid);
	op = migguard_add_op(stmt, MG_OP_CREATE_INDEX,
				index->concurrent ? ShareUpdateExclusiveLock : ShareLock, rel);
	op->index_name = index->idxname ? pstrdup(index->idxname) : NULL;
	if (index->concurrent)
		op->flags |= MG_F_CONCURRENTLY;
	if (rel->relkind == RELKIND_PARTITIONED_TABLE && !index->relation->inh)
		op->flags |= MG_F_NO_BUILD;

	/* IF NOT EXISTS and the name is taken: nothing is built. */
	if (OidIsValid(existing))
	{
		HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(existing));

		op->flags |= MG_F_NO_BUILD;
		if (HeapTupleIsValid(tup))
		{
			if (!((Form_pg_index) GETSTRUCT(tup))->indisvalid)
			{
				op->flags |= MG_F_INVALID_INDEX_EXISTS;
				op->index = migguard_describe_relation(stmt->analysis, existing);
			}
			ReleaseSysCache(tup);
		}
	}
}

static void
classify_drop_relations(MigguardStatement *stmt, DropStmt *drop)
{
	ListCell   *lc;

	/* Only these carry relation names; other objects are not our business. */
	if (drop->removeType != OBJECT_INDEX && drop->removeType != OBJECT_TABLE)
		return;

	foreach(lc, drop->objects)
	{
		RangeVar   *rv = makeRangeVarFromNameList((List *) lfirst(lc));
		Oid			relid = migguard_lookup_relid(stmt->analysis, rv);
		char		relkind;

		/*
		 * RemoveRelations fails the whole statement on a missing relation
		 * (without IF EXISTS), a wrong kind, or one the user may not drop,
		 * and performDeletion on dependents without CASCADE: then nothing
		 * is judged and PostgreSQL's error is the one to see.
		 */
		if (!OidIsValid(relid))
		{
			if (drop->missing_ok || (migguard_created_in_script(stmt->analysis, rv)))
				continue;
			stmt->ops = NIL;
			return;
		}
		relkind = get_rel_relkind(relid);
		if (!user_may_drop_relation(relid) || catalog_is_protected(relid) ||
			(drop->removeType == OBJECT_INDEX &&
			 relkind != RELKIND_INDEX && relkind != RELKIND_PARTITIONED_INDEX) ||
			(drop->removeType == OBJECT_TABLE &&
			 relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE))
		{
			stmt->ops = NIL;
			return;
		}
		/* These are found after RemoveRelations has locked the relation. */
		if ((drop->removeType == OBJECT_INDEX && index_backs_constraint(relid)) ||
			(drop->behavior != DROP_CASCADE && relation_has_dependents(relid, 0, false)))
		{
			Oid			lockedid = drop->removeType == OBJECT_INDEX ?
				IndexGetRelation(relid, true) : relid;

			if (OidIsValid(lockedid))
				refuse_after_lock(stmt, migguard_describe_relation(stmt->analysis, lockedid),
								  AccessExclusiveLock);
			else
				stmt->ops = NIL;
			return;
		}

		if (drop->removeType == OBJECT_INDEX)
		{
			Oid			tableid = IndexGetRelation(relid, true);
			MigguardOp *op;

			if (!OidIsValid(tableid))
				continue;
			op = migguard_add_op(stmt, MG_OP_DROP_INDEX,
						drop->concurrent ? ShareUpdateExclusiveLock : AccessExclusiveLock,
						migguard_describe_relation(stmt->analysis, tableid));
			op->index = migguard_describe_relation(stmt->analysis, relid);
			if (drop->concurrent)
				op->flags |= MG_F_CONCURRENTLY;
		}
		else
		{
			migguard_add_op(stmt, MG_OP_DROP_TABLE, AccessExclusiveLock,
				   migguard_describe_relation(stmt->analysis, relid));

			/* CASCADE also drops plain inheritance children. */
			if (drop->behavior == DROP_CASCADE && relkind == RELKIND_RELATION)
			{
				List	   *children = find_all_inheritors(relid, NoLock, NULL);
				ListCell   *cl;

				foreach(cl, children)
				{
					Oid			child = lfirst_oid(cl);

					if (child != relid &&
						get_rel_relkind(child) == RELKIND_RELATION)
						migguard_add_op(stmt, MG_OP_DROP_TABLE, AccessExclusiveLock,
							   migguard_describe_relation(stmt->analysis, child));
				}
			}
		}
	}
}

/* DROP SCHEMA ... CASCADE drops every table in it. */
static void
classify_drop_schemas(MigguardStatement *stmt, DropStmt *drop)
{
	ListCell   *lc;

	if (drop->behavior != DROP_CASCADE)
		return;

	foreach(lc, drop->objects)
	{
		Oid			nspid = get_namespace_oid(strVal(lfirst(lc)), true);
		Relation	classrel;
		TableScanDesc scan;
		HeapTuple	tup;
		ScanKeyData key;

		if (!OidIsValid(nspid) || !mg_namespace_ownercheck(nspid, GetUserId()))
			continue;

		classrel = table_open(RelationRelationId, AccessShareLock);
		ScanKeyInit(&key, Anum_pg_class_relnamespace, BTEqualStrategyNumber,
					F_OIDEQ, ObjectIdGetDatum(nspid));
		scan = table_beginscan_catalog(classrel, 1, &key);
		while (HeapTupleIsValid(tup = heap_getnext(scan, ForwardScanDirection)))
		{
			Form_pg_class cls = (Form_pg_class) GETSTRUCT(tup);

			if (cls->relkind == RELKIND_RELATION && !cls->relispartition)
				migguard_add_op(stmt, MG_OP_DROP_TABLE, AccessExclusiveLock,
					   migguard_describe_relation(stmt->analysis, cls->oid));
			else if (cls->relkind == RELKIND_PARTITIONED_TABLE &&
					 !cls->relispartition)
				migguard_add_op(stmt, MG_OP_DROP_TABLE, AccessExclusiveLock,
					   migguard_describe_relation(stmt->analysis, cls->oid));
		}
		table_endscan(scan);
		table_close(classrel, AccessShareLock);
	}
}

static void
classify_reindex(MigguardStatement *stmt, ReindexStmt *reindex)
{
	bool		concurrently;
	Oid			relid;
	Oid			tableid;
	MigguardOp *op;

	if (reindex->kind != REINDEX_OBJECT_INDEX &&
		reindex->kind != REINDEX_OBJECT_TABLE)
		return;
	relid = migguard_lookup_relid(stmt->analysis, reindex->relation);
	if (!OidIsValid(relid))
		return;
	tableid = reindex->kind == REINDEX_OBJECT_INDEX ?
		IndexGetRelation(relid, true) : relid;
	if (!OidIsValid(tableid) || !user_maintains_relation(tableid))
		return;

	concurrently = MG_REINDEX_LEGACY_CONCURRENT(reindex) ||
		migguard_defelem_is_true(MG_REINDEX_OPTIONS(reindex), "concurrently");
	op = migguard_add_op(stmt, MG_OP_REINDEX,
				concurrently ? ShareUpdateExclusiveLock : ShareLock,
				migguard_describe_relation(stmt->analysis, tableid));
	if (reindex->kind == REINDEX_OBJECT_INDEX)
		op->index = migguard_describe_relation(stmt->analysis, relid);
	if (concurrently)
		op->flags |= MG_F_CONCURRENTLY;
}

/* Whether attnum is a partition key column or used by a key expression. */
static bool
column_in_partition_key(Oid relid, AttrNumber attnum)
{
	HeapTuple	tup = SearchSysCache1(PARTRELID, ObjectIdGetDatum(relid));
	Form_pg_partitioned_table part;
	bool		result = false;
	bool		isnull;
	Datum		exprs;

	if (!HeapTupleIsValid(tup))
		return false;
	part = (Form_pg_partitioned_table) GETSTRUCT(tup);
	for (int i = 0; i < part->partnatts; i++)
		if (part->partattrs.values[i] == attnum)
			result = true;
	exprs = SysCacheGetAttr(PARTRELID, tup, Anum_pg_partitioned_table_partexprs,
							&isnull);
	if (!result && !isnull)
	{
		Bitmapset  *attrs = NULL;

		pull_varattnos(stringToNode(TextDatumGetCString(exprs)), 1, &attrs);
		result = bms_is_member(attnum - FirstLowInvalidHeapAttributeNumber, attrs);
	}
	ReleaseSysCache(tup);
	return result;
}

/*
 * DROP COLUMN that PostgreSQL itself refuses (ATExecDropColumn): a system
 * column, an inherited column, a partition key column, a column of a typed
 * table.  Its error is the one to see, not MG001.
 */
static bool
column_may_be_dropped(Oid relid, Form_pg_attribute att)
{
	List	   *tree;
	ListCell   *lc;
	bool		in_key = false;

	if (att->attnum <= 0 || att->attinhcount > 0 || relation_is_typed(relid))
		return false;
	/* The drop recurses: no partition in the tree may have it in its key. */
	tree = find_all_inheritors(relid, NoLock, NULL);
	foreach(lc, tree)
	{
		Oid			member = lfirst_oid(lc);
		AttrNumber	attnum = member == relid ? att->attnum :
			get_attnum(member, NameStr(att->attname));

		if (attnum > 0 && column_in_partition_key(member, attnum))
			in_key = true;
	}
	list_free(tree);
	return !in_key;
}

/* Whether a subcommand of the ALTER TABLE adds an identity to column. */
static bool
column_gets_identity(List *cmds, const char *column)
{
	ListCell   *lc;

	foreach(lc, cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

		if (cmd->subtype == AT_AddIdentity && cmd->name != NULL &&
			strcmp(cmd->name, column) == 0)
			return true;
	}
	return false;
}

/*
 * Whether PostgreSQL rejects the whole ALTER TABLE for this subcommand,
 * after locking the relation (ATPrepCmd and the AT*Column functions).
 */
static bool
alter_subcommand_refused(const MigguardAnalysis *cx, AlterTableStmt *alter,
						 AlterTableCmd *cmd, MigguardRelation *rel,
						 bool on_index)
{
	Oid			relid = rel->relid;
	bool		has_columns = !on_index &&
		(rel->relkind == RELKIND_RELATION ||
		 rel->relkind == RELKIND_PARTITIONED_TABLE ||
		 rel->relkind == RELKIND_FOREIGN_TABLE);
	bool		recurse = alter->relation->inh;

	/*
	 * ATSimplePermissions: these subcommands need a table, a partitioned
	 * table or a foreign table.
	 */
	if ((MG_IS_ADD_COLUMN(cmd->subtype) || MG_IS_ADD_CONSTRAINT(cmd->subtype) ||
		 MG_IS_DROP_COLUMN(cmd->subtype) || cmd->subtype == AT_AlterColumnType ||
		 cmd->subtype == AT_SetNotNull) && !has_columns)
		return true;
	if ((cmd->subtype == AT_SetLogged || cmd->subtype == AT_SetUnLogged) &&
		(on_index || rel->relkind != RELKIND_RELATION))
		return true;
	if (cmd->subtype == AT_SetAccessMethod &&
		(on_index ||
		 (rel->relkind != RELKIND_RELATION && rel->relkind != RELKIND_MATVIEW &&
		  !(MG_HAS_PARTITIONED_ACCESS_METHOD &&
			rel->relkind == RELKIND_PARTITIONED_TABLE))))
		return true;

	if (MG_IS_ADD_COLUMN(cmd->subtype))
	{
		ColumnDef  *def = (ColumnDef *) cmd->def;

		/*
		 * ATPrepAddColumn / ATExecAddColumn: a typed table, a partition, a
		 * name taken (without IF NOT EXISTS), ONLY on a table with
		 * children.
		 */
		if (relation_is_typed(relid) || get_rel_relispartition(relid))
			return true;
		if (column_exists(cx, relid, def->colname))
			return !cmd->missing_ok;
		return !recurse && find_inheritance_children(relid, NoLock) != NIL;
	}
	if (MG_IS_DROP_COLUMN(cmd->subtype))
	{
		HeapTuple	tup = SearchSysCacheAttName(relid, cmd->name);
		bool		refused;

		if (!HeapTupleIsValid(tup))
			return !cmd->missing_ok;
		refused = !column_may_be_dropped(relid, (Form_pg_attribute) GETSTRUCT(tup)) ||
			(!recurse && rel->relkind == RELKIND_PARTITIONED_TABLE &&
			 find_inheritance_children(relid, NoLock) != NIL) ||
			(cmd->behavior != DROP_CASCADE &&
			 relation_has_dependents(relid, ((Form_pg_attribute) GETSTRUCT(tup))->attnum,
									 false));
		ReleaseSysCache(tup);
		return refused;
	}
	return false;
}

static void
classify_alter_table(MigguardStatement *stmt, AlterTableStmt *alter)
{
	Oid			relid = migguard_lookup_relid(stmt->analysis, alter->relation);
	LOCKMODE	lockmode;
	MigguardRelation *rel;
	MigguardRelation *index = NULL;
	ListCell   *lc;

	if (!OidIsValid(relid) || !user_owns_relation(relid) || catalog_is_protected(relid))
		return;
	lockmode = AlterTableGetLockLevel(alter->cmds);

	if (alter->objtype == OBJECT_INDEX)
	{
		Oid			tableid = IndexGetRelation(relid, true);

		if (!OidIsValid(tableid))
			return;
		index = migguard_describe_relation(stmt->analysis, relid);
		rel = migguard_describe_relation(stmt->analysis, tableid);
	}
	else
		rel = migguard_describe_relation(stmt->analysis, relid);

	foreach(lc, alter->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);
		MigguardOp *op;

		/* PostgreSQL 15 accepts these on a partitioned table, as no-ops. */
		if ((cmd->subtype == AT_SetLogged || cmd->subtype == AT_SetUnLogged) &&
			rel->relkind == RELKIND_PARTITIONED_TABLE && index == NULL)
			continue;
		if (alter_subcommand_refused(stmt->analysis, alter, cmd, rel,
									 index != NULL))
		{
			refuse_after_lock(stmt, index ? index : rel, lockmode);
			return;
		}

		if (MG_IS_ADD_COLUMN(cmd->subtype))
			classify_add_column(stmt, rel, lockmode, (ColumnDef *) cmd->def,
								column_gets_identity(alter->cmds, ((ColumnDef *) cmd->def)->colname));
		else if (MG_IS_ADD_CONSTRAINT(cmd->subtype))
			add_constraint(stmt, rel, lockmode, (Constraint *) cmd->def, NULL);
		else if (MG_IS_DROP_COLUMN(cmd->subtype))
		{
			HeapTuple	tup = SearchSysCacheAttName(relid, cmd->name);
			Form_pg_attribute att;

			if (!HeapTupleIsValid(tup))
				continue;		/* IF EXISTS: a no-op */
			att = (Form_pg_attribute) GETSTRUCT(tup);
			op = migguard_add_op(stmt, MG_OP_DROP_COLUMN, lockmode, rel);
			op->column = pstrdup(cmd->name);
			if (att->attnotnull)
				op->flags |= MG_F_NOT_NULL;
			if (att->atthasdef)
				op->flags |= MG_F_HAS_DEFAULT;
			ReleaseSysCache(tup);
		}
		else if (MG_IS_SET_EXPRESSION(cmd->subtype))
			classify_set_expression(stmt, rel, lockmode, cmd->name);
		else
		{
			switch (cmd->subtype)
			{
				case AT_AlterColumnType:
					classify_alter_column_type(stmt, rel, lockmode, cmd);
					break;
				case AT_SetNotNull:
					add_set_not_null(stmt, rel, lockmode, cmd->name, false);
					break;
				case AT_AlterConstraint:
					{
						/*
						 * 18: ENFORCED validates a NOT ENFORCED foreign key;
						 * 19: a NOT ENFORCED CHECK too.
						 */
						char		contype = 0;
						const char *conname =
							mg_alter_constraint_validates(relid, cmd, &contype);

						/*
						 * ATExecAlterConstraint refuses ONLY on a
						 * partitioned table: PostgreSQL's error.
						 */
						if (conname == NULL ||
							(rel->relkind == RELKIND_PARTITIONED_TABLE &&
							 !alter->relation->inh))
							break;
						op = migguard_add_op(stmt, MG_OP_ADD_CONSTRAINT, lockmode, rel);
						op->constraint_name = pstrdup(conname);
						op->constraint_kind = contype == CONSTRAINT_CHECK ?
							MG_CON_CHECK : MG_CON_FOREIGN_KEY;
						op->flags |= MG_F_ENFORCE;
						break;
					}
				case AT_SetTableSpace:
					{
						Oid			spcid = get_tablespace_oid(cmd->name, true);
						Oid			current = get_rel_tablespace(index ? index->relid : relid);

						if (!OidIsValid(spcid))
							break;
						op = migguard_add_op(stmt, MG_OP_SET_TABLESPACE, lockmode, rel);
						op->index = index;
						op->tablespace = pstrdup(cmd->name);
						if (spcid == MyDatabaseTableSpace)
							spcid = InvalidOid;
						if (spcid == current)
							op->flags |= MG_F_NO_OP;
						break;
					}
				case AT_AttachPartition:
					{
						PartitionCmd *pc = (PartitionCmd *) cmd->def;
						Oid			partid = migguard_lookup_relid(stmt->analysis, pc->name);

						/* ALTER INDEX ... ATTACH PARTITION has no bound and no scan. */
						if (alter->objtype == OBJECT_INDEX || pc->bound == NULL ||
							rel->relkind != RELKIND_PARTITIONED_TABLE ||
							!OidIsValid(partid) || !user_owns_relation(partid))
							break;
						classify_partition_bound(stmt, rel, lockmode, partid,
												 pc->name->relname, pc->bound);
						break;
					}
				case AT_SetLogged:
				case AT_SetUnLogged:
				case AT_SetAccessMethod:
					{
						char		target = cmd->subtype == AT_SetLogged ?
							RELPERSISTENCE_PERMANENT : RELPERSISTENCE_UNLOGGED;

						op = migguard_add_op(stmt, MG_OP_TABLE_REWRITE, lockmode, rel);
						if (cmd->subtype == AT_SetAccessMethod)
						{
							/*
							 * ATPrepSetAccessMethod: DEFAULT (17) names
							 * default_table_access_method; a partitioned
							 * table has no storage to rewrite.
							 */
							const char *amname = cmd->name ? cmd->name :
								default_table_access_method;

							op->command = "SET ACCESS METHOD";
							if (get_am_oid(amname, true) == relation_am(relid) ||
								rel->relkind == RELKIND_PARTITIONED_TABLE)
								op->flags |= MG_F_NO_OP;
						}
						else
						{
							op->command = cmd->subtype == AT_SetLogged ?
								"SET LOGGED" : "SET UNLOGGED";
							if (rel->relpersistence == target)
								op->flags |= MG_F_NO_OP;
						}
						break;
					}
				case AT_DetachPartition:
					{
						PartitionCmd *pc = (PartitionCmd *) cmd->def;

						op = migguard_add_op(stmt, MG_OP_DETACH_PARTITION, lockmode, rel);
						if (MG_PARTCMD_CONCURRENT(pc))
							op->flags |= MG_F_CONCURRENTLY;
						if (OidIsValid(get_default_partition_oid(relid)))
							op->flags |= MG_F_HAS_DEFAULT_PARTITION;
						break;
					}
				default:
					break;
			}
		}
	}
	if (index == NULL)
		migguard_classify_column_defaults(stmt, rel, lockmode, alter->cmds);
	migguard_add_lock(stmt, index ? index : rel, lockmode);
}

/*
 * renameatt_internal recurses: a child that also inherits the column from
 * a parent outside the tree (attinhcount above the number of times the
 * tree reaches it) makes the rename fail ("cannot rename inherited
 * column").
 */
static bool
children_follow_rename(Oid relid, const char *column)
{
	List	   *numparents = NIL;
	List	   *tree = find_all_inheritors(relid, NoLock, &numparents);
	ListCell   *lc;
	ListCell   *nc;
	bool		ok = true;

	forboth(lc, tree, nc, numparents)
	{
		Oid			child = lfirst_oid(lc);
		HeapTuple	tup;

		if (child == relid)
			continue;
		tup = SearchSysCacheAttName(child, column);
		if (HeapTupleIsValid(tup))
		{
			if (((Form_pg_attribute) GETSTRUCT(tup))->attinhcount > lfirst_int(nc))
				ok = false;
			ReleaseSysCache(tup);
		}
	}
	return ok;
}

static bool
relkind_is_renamable(char relkind)
{
	return relkind == RELKIND_RELATION || relkind == RELKIND_PARTITIONED_TABLE ||
		relkind == RELKIND_VIEW || relkind == RELKIND_MATVIEW ||
		relkind == RELKIND_SEQUENCE || relkind == RELKIND_FOREIGN_TABLE;
}

static void
classify_rename(MigguardStatement *stmt, RenameStmt *rename)
{
	Oid			relid;
	MigguardOp *op;

	switch (rename->renameType)
	{
		case OBJECT_COLUMN:
		case OBJECT_TABLE:
		case OBJECT_VIEW:
		case OBJECT_MATVIEW:
		case OBJECT_SEQUENCE:
		case OBJECT_FOREIGN_TABLE:
			relid = migguard_lookup_relid(stmt->analysis, rename->relation);
			if (!OidIsValid(relid) || !user_owns_relation(relid) ||
				catalog_is_protected(relid) ||
				!relkind_is_renamable(get_rel_relkind(relid)))
				return;
			if (rename->renameType == OBJECT_COLUMN)
			{
				HeapTuple	atttup = SearchSysCacheAttName(relid, rename->subname);
				Form_pg_attribute att;

				/* renameatt and renameatt_internal refuse these themselves */
				if (!HeapTupleIsValid(atttup))
					return;
				att = (Form_pg_attribute) GETSTRUCT(atttup);
				if (att->attnum <= 0 || att->attinhcount > 0 ||
					relation_is_typed(relid) ||
					(!rename->relation->inh &&
					 find_inheritance_children(relid, NoLock) != NIL) ||
					column_exists(stmt->analysis, relid, rename->newname) ||
					(rename->relation->inh &&
					 !children_follow_rename(relid, rename->subname)))
				{
					ReleaseSysCache(atttup);
					return;
				}
				op = migguard_add_op(stmt, MG_OP_RENAME_COLUMN, AccessExclusiveLock,
							migguard_describe_relation(stmt->analysis, relid));
				op->column = pstrdup(rename->subname);
				op->column_type = type_sql_name(att->atttypid, att->atttypmod);
				ReleaseSysCache(atttup);
			}
			else
			{
				/* RenameRelationInternal: "relation ... already exists" */
				if (OidIsValid(relation_named(rename->newname,
											  get_rel_namespace(relid))))
					return;
				op = migguard_add_op(stmt, MG_OP_RENAME_RELATION, AccessExclusiveLock,
							migguard_describe_relation(stmt->analysis, relid));
			}
			op->new_name = pstrdup(rename->newname);
			break;
		case OBJECT_SCHEMA:
			{
				Oid			nspid = get_namespace_oid(rename->subname, true);
				MigguardRelation *schema;
				HeapTuple	tup;

				if (!OidIsValid(nspid) ||
					!mg_namespace_ownercheck(nspid, GetUserId()) ||
					OidIsValid(get_namespace_oid(rename->newname, true)))
					return;
				tup = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(nspid));
				if (!HeapTupleIsValid(tup))
					return;
				schema = palloc0(sizeof(MigguardRelation));
				schema->relid = InvalidOid;
				schema->name = pstrdup(rename->subname);
				schema->is_new = TransactionIdIsCurrentTransactionId(
																	 HeapTupleHeaderGetXmin(tup->t_data));
				ReleaseSysCache(tup);
				op = migguard_add_op(stmt, MG_OP_RENAME_RELATION, NoLock, schema);
				op->flags |= MG_F_SCHEMA;
				op->new_name = pstrdup(rename->newname);
				break;
			}
		default:
			break;
	}
}

static void
classify_set_schema(MigguardStatement *stmt, AlterObjectSchemaStmt *alter)
{
	Oid			relid;
	Oid			nspid;
	Oid			owner_table;
	int32		owner_column;
	MigguardOp *op;

	switch (alter->objectType)
	{
		case OBJECT_TABLE:
		case OBJECT_VIEW:
		case OBJECT_MATVIEW:
		case OBJECT_SEQUENCE:
		case OBJECT_FOREIGN_TABLE:
			relid = migguard_lookup_relid(stmt->analysis, alter->relation);
			if (!OidIsValid(relid) || !user_owns_relation(relid) ||
				catalog_is_protected(relid))
				return;

			/*
			 * AlterTableNamespace: an unknown schema is PostgreSQL's error,
			 * and so is moving a sequence a column owns; the schema the
			 * relation is already in makes it a no-op.
			 */
			if (get_rel_relkind(relid) == RELKIND_SEQUENCE &&
				(sequenceIsOwned(relid, DEPENDENCY_AUTO, &owner_table, &owner_column) ||
				 sequenceIsOwned(relid, DEPENDENCY_INTERNAL, &owner_table, &owner_column)))
				return;
			nspid = get_namespace_oid(alter->newschema, true);
			if (!OidIsValid(nspid) || nspid == get_rel_namespace(relid))
				return;
			op = migguard_add_op(stmt, MG_OP_RENAME_RELATION, AccessExclusiveLock,
						migguard_describe_relation(stmt->analysis, relid));
			op->flags |= MG_F_SET_SCHEMA;
			op->new_name = pstrdup(alter->newschema);
			break;
		default:
			break;
	}
}

static MigguardOp *
add_rewrite_maintenance(MigguardStatement *stmt, Oid relid, bool cluster)
{
	MigguardOp *op;

	if (!user_may_vacuum_relation(relid))
		return NULL;
	op = migguard_add_op(stmt, MG_OP_REWRITE_MAINTENANCE, AccessExclusiveLock,
				migguard_describe_relation(stmt->analysis, relid));
	if (cluster)
		op->flags |= MG_F_CLUSTER;
	return op;
}

/* Mark every op so far: the statement cannot run in a transaction block. */
static void
mark_outside_transaction_block(MigguardStatement *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->ops)
		((MigguardOp *) lfirst(lc))->flags |= MG_F_NO_TRANSACTION_BLOCK;
}

/* VACUUM FULL or CLUSTER without a table list: every table it would touch. */
static void
add_rewrite_maintenance_all(MigguardStatement *stmt, bool cluster)
{
	Relation	classrel = table_open(RelationRelationId, AccessShareLock);
	TableScanDesc scan = table_beginscan_catalog(classrel, 0, NULL);
	HeapTuple	tup;

	while (HeapTupleIsValid(tup = heap_getnext(scan, ForwardScanDirection)))
	{
		Form_pg_class cls = (Form_pg_class) GETSTRUCT(tup);

		if ((cls->relkind != RELKIND_RELATION && cls->relkind != RELKIND_MATVIEW) ||
			cls->relpersistence == RELPERSISTENCE_TEMP ||
			IsCatalogRelationOid(cls->oid))
			continue;
		add_rewrite_maintenance(stmt, cls->oid, cluster);
	}
	table_endscan(scan);
	table_close(classrel, AccessShareLock);
}

static void
classify_vacuum(MigguardStatement *stmt, VacuumStmt *vacuum)
{
	ListCell   *lc;

	if (!vacuum->is_vacuumcmd || !migguard_defelem_is_true(vacuum->options, "full"))
		return;
	if (vacuum->rels == NIL)
		add_rewrite_maintenance_all(stmt, false);
	foreach(lc, vacuum->rels)
	{
		VacuumRelation *vrel = lfirst_node(VacuumRelation, lc);
		Oid			relid = migguard_lookup_relid(stmt->analysis, vrel->relation);

		if (OidIsValid(relid))
			add_rewrite_maintenance(stmt, relid, false);
	}
	mark_outside_transaction_block(stmt);
}

static void
classify_cluster(MigguardStatement *stmt, MgClusterStmt *cluster)
{
	Oid			relid;
	MigguardOp *op;

	/* REPACK (CONCURRENTLY) without a table is PostgreSQL's error. */
	if (mg_cluster_relation(cluster) == NULL && mg_cluster_concurrently(cluster))
		return;

	/*
	 * 19's REPACK alone (no USING INDEX) rewrites every table and
	 * materialized view the user may maintain (get_tables_to_repack), as
	 * VACUUM FULL alone does.
	 */
	if (mg_cluster_relation(cluster) == NULL && !mg_cluster_needs_marked_index(cluster))
	{
		ListCell   *lc;

		add_rewrite_maintenance_all(stmt, true);
		foreach(lc, stmt->ops)
			((MigguardOp *) lfirst(lc))->command = mg_cluster_command_name(cluster);
		mark_outside_transaction_block(stmt);
		return;
	}
	if (mg_cluster_relation(cluster) == NULL)
	{
		/* CLUSTER alone reclusters every table that has a clustered index. */
		Relation	indrel = table_open(IndexRelationId, AccessShareLock);
		TableScanDesc scan = table_beginscan_catalog(indrel, 0, NULL);
		HeapTuple	tup;

		while (HeapTupleIsValid(tup = heap_getnext(scan, ForwardScanDirection)))
		{
			Form_pg_index index = (Form_pg_index) GETSTRUCT(tup);

			/* get_tables_to_cluster: only the tables the user owns */
			if (index->indisclustered && !IsCatalogRelationOid(index->indrelid) &&
				user_maintains_relation(index->indrelid) &&
				(op = add_rewrite_maintenance(stmt, index->indrelid, true)) != NULL)
				op->command = mg_cluster_command_name(cluster);
		}
		table_endscan(scan);
		table_close(indrel, AccessShareLock);
		mark_outside_transaction_block(stmt);
		return;
	}
	/*
	 * cluster(): only the table's owner may CLUSTER it (RangeVarCallbackOwns-
	 * Table; unlike VACUUM FULL, owning the database is not enough), and
	 * without USING it needs a clustered index.  Otherwise PostgreSQL's own
	 * error comes first.
	 */
	relid = migguard_lookup_relid(stmt->analysis, mg_cluster_relation(cluster));
	if (!OidIsValid(relid) || !user_maintains_relation(relid))
		return;
	if (cluster->indexname != NULL ?
		!OidIsValid(get_relname_relid(cluster->indexname, get_rel_namespace(relid))) :
		(mg_cluster_needs_marked_index(cluster) &&
		 !relation_has_index_marked(relid, false)))
		return;
	op = add_rewrite_maintenance(stmt, relid, true);
	if (op != NULL)
		op->command = mg_cluster_command_name(cluster);

	/*
	 * 19's REPACK (CONCURRENTLY) copies under SHARE UPDATE EXCLUSIVE and
	 * takes ACCESS EXCLUSIVE only to swap the files (ExecRepack): no
	 * vacuum_full finding.  The op keeps ACCESS EXCLUSIVE, the strongest
	 * lock it waits for, so that wait is protected (lockguard.c); a
	 * partitioned table is PostgreSQL's error.
	 */
	if (op != NULL && mg_cluster_concurrently(cluster))
		op->flags |= MG_F_CONCURRENTLY;
}

static void
classify_refresh(MigguardStatement *stmt, RefreshMatViewStmt *refresh)
{
	Oid			relid = migguard_lookup_relid(stmt->analysis, refresh->relation);
	MigguardOp *op;

	if (!OidIsValid(relid) || !user_maintains_relation(relid))
		return;
	op = migguard_add_op(stmt, MG_OP_REFRESH_MATVIEW,
				refresh->concurrent ? ExclusiveLock : AccessExclusiveLock,
				migguard_describe_relation(stmt->analysis, relid));
	if (refresh->concurrent)
		op->flags |= MG_F_CONCURRENTLY;
	if (refresh->skipData)
		op->flags |= MG_F_NO_OP;
}

/*
 * TRUNCATE empties the named tables, their inheritance children and
 * partitions, and with CASCADE every table that references them.
 */
/* TRUNCATE that PostgreSQL rejects once it holds the named tables' locks. */
static void
refuse_truncate(MigguardStatement *stmt, List *relids)
{
	ListCell   *lc;

	stmt->ops = NIL;
	foreach(lc, relids)
		migguard_add_lock(stmt, migguard_describe_relation(stmt->analysis, lfirst_oid(lc)),
				 AccessExclusiveLock);
}

static void
classify_truncate(MigguardStatement *stmt, TruncateStmt *truncate)
{
	List	   *relids = NIL;
	ListCell   *lc;

	foreach(lc, truncate->relations)
	{
		RangeVar   *rv = lfirst_node(RangeVar, lc);
		Oid			relid = migguard_lookup_relid(stmt->analysis, rv);

		/* ExecuteTruncate fails the whole statement on a missing table. */
		if (!OidIsValid(relid))
		{
			if (!(migguard_created_in_script(stmt->analysis, rv)))
				return;
			continue;
		}
		if (mg_class_aclcheck(relid, GetUserId(), ACL_TRUNCATE) != ACLCHECK_OK)
		{
			stmt->refused = true;
			return;
		}
		/* truncate_check_rel: catalogs, and anything but a table */
		if (catalog_is_protected(relid) ||
			(get_rel_relkind(relid) != RELKIND_RELATION &&
			 get_rel_relkind(relid) != RELKIND_PARTITIONED_TABLE))
			return;
		relids = list_append_unique_oid(relids, relid);
		/* ExecuteTruncate: "cannot truncate only a partitioned table" */
		if (!rv->inh && get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE)
		{
			refuse_truncate(stmt, relids);
			return;
		}
		/* Inheritance children are not permission-checked (ExecuteTruncate). */
		if (rv->inh && get_rel_relkind(relid) == RELKIND_RELATION)
			relids = list_concat_unique_oid(relids,
											find_all_inheritors(relid, NoLock, NULL));
	}

	/*
	 * CASCADE: every referencing table, each of which ExecuteTruncate checks
	 * for the TRUNCATE privilege (truncate_check_perms).  Lacking one, the
	 * statement fails: nothing is judged, sized, probed or named.
	 */
	/*
	 * Without CASCADE, a table referenced by a foreign key from outside the
	 * list makes heap_truncate_check_FKs fail the statement, after every
	 * named table is locked.
	 */
	if (truncate->behavior != DROP_CASCADE &&
		list_difference_oid(heap_truncate_find_FKs(relids), relids) != NIL)
	{
		refuse_truncate(stmt, relids);
		return;
	}
	if (truncate->behavior == DROP_CASCADE)
	{
		List	   *more = relids;

		while (more != NIL)
		{
			List	   *referencing = heap_truncate_find_FKs(more);

			more = list_difference_oid(referencing, relids);
			foreach(lc, more)
				if (mg_class_aclcheck(lfirst_oid(lc), GetUserId(),
									  ACL_TRUNCATE) != ACLCHECK_OK)
				{
					stmt->refused = true;
					return;
				}
			relids = list_concat_unique_oid(relids, more);
		}
	}

	foreach(lc, relids)
		migguard_add_op(stmt, MG_OP_TRUNCATE, AccessExclusiveLock,
			   migguard_describe_relation(stmt->analysis, lfirst_oid(lc)));
}

static void
classify_create_partition(MigguardStatement *stmt, CreateStmt *create)
{
	Oid			parentid;

	if (create->partbound == NULL || create->inhRelations == NIL)
		return;
	parentid = migguard_lookup_relid(stmt->analysis, linitial_node(RangeVar, create->inhRelations));
	if (!OidIsValid(parentid) || !user_owns_relation(parentid) ||
		get_rel_relkind(parentid) != RELKIND_PARTITIONED_TABLE)
		return;
	classify_partition_bound(stmt, migguard_describe_relation(stmt->analysis, parentid),
							 AccessExclusiveLock, InvalidOid,
							 create->relation->relname, create->partbound);
}

/* LOCK TABLE: each named relation, in the requested mode. */
static void
classify_lock(MigguardStatement *stmt, LockStmt *lock)
{
	ListCell   *lc;

	/* NOWAIT never queues, so there is nothing to protect. */
	if (lock->nowait)
		return;
	foreach(lc, lock->relations)
	{
		Oid			relid = migguard_lookup_relid(stmt->analysis, lfirst_node(RangeVar, lc));

		if (!OidIsValid(relid) ||
			mg_class_aclcheck(relid, GetUserId(), migguard_lock_table_aclmask(lock->mode)) != ACLCHECK_OK)
			continue;
		migguard_add_lock(stmt, migguard_describe_relation(stmt->analysis, relid), lock->mode);
	}
}

/*
 * CREATE TABLE ... REFERENCES locks each referenced table SHARE ROW
 * EXCLUSIVE (writes blocked) to add its triggers, before any permission
 * check, so the lock is taken whoever runs the statement.
 */
static void
classify_create_references(MigguardStatement *stmt, CreateStmt *create)
{
	ListCell   *lc;

	foreach(lc, create->tableElts)
	{
		Node	   *elt = (Node *) lfirst(lc);
		List	   *constraints;
		ListCell   *lc2;

		if (IsA(elt, ColumnDef))
			constraints = ((ColumnDef *) elt)->constraints;
		else if (IsA(elt, Constraint))
			constraints = list_make1(elt);
		else
			continue;
		foreach(lc2, constraints)
		{
			Constraint *con = lfirst_node(Constraint, lc2);
			Oid			refid;

			if (con->contype != CONSTR_FOREIGN)
				continue;
			refid = migguard_lookup_relid(stmt->analysis, con->pktable);
			if (OidIsValid(refid))
				migguard_add_lock(stmt, migguard_describe_relation(stmt->analysis, refid),
						 ShareRowExclusiveLock);
		}
	}
}

/*
 * Lock facts for the lock-queue rules and lockguard.c: one
 * MG_OP_OTHER_LOCK op per relation the statement locks, in the strongest
 * mode it takes there.  The ops above name most of them; a foreign key
 * also locks its referenced table; the statement kind's table
 * (stmtkind.c) adds the locks no op names.  Then the locks that block
 * reads or writes which earlier statements of this transaction, or of
 * check()'s script, took (strong_lock_held: hazards.c).
 */
static void
add_lock_facts(MigguardStatement *stmt, Node *parsetree)
{
	List	   *ops = list_copy(stmt->ops);
	ListCell   *lc;

	foreach(lc, ops)
	{
		MigguardOp *op = (MigguardOp *) lfirst(lc);

		if (op->kind == MG_OP_OTHER_LOCK)
			continue;
		migguard_add_lock(stmt, op->rel, op->lockmode);
		if (op->kind == MG_OP_ADD_CONSTRAINT &&
			op->constraint_kind == MG_CON_FOREIGN_KEY)
			migguard_add_lock(stmt, op->referenced, ShareRowExclusiveLock);
	}
	list_free(ops);
	migguard_classify_kind_locks(stmt, parsetree);

	/*
	 * The kind table decides whether the statement may run in a transaction
	 * block (SET LOCAL cannot reach it otherwise: act.c's hint).
	 */
	if (migguard_stmt_kind_known(parsetree) &&
		!migguard_stmt_runs_in_transaction(parsetree))
		mark_outside_transaction_block(stmt);

	migguard_add_held_locks(stmt);
}

/*
 * Statement -> facts.  The result lists one op per effect; an empty list
 * means nothing in the statement concerns any rule.
 */
MigguardStatement *
migguard_classify(MigguardAnalysis *cx, Node *parsetree, const char *stmt_text)
{
	MigguardStatement *stmt =
		migguard_new_statement(cx, stmt_text,
							   GetCommandTagName(CreateCommandTag(parsetree)));

	switch (nodeTag(parsetree))
	{
		case T_IndexStmt:
			classify_index_stmt(stmt, (IndexStmt *) parsetree);
			break;
		case T_DropStmt:
			{
				DropStmt   *drop = (DropStmt *) parsetree;

				if (drop->removeType == OBJECT_SCHEMA)
					classify_drop_schemas(stmt, drop);
				else
					classify_drop_relations(stmt, drop);
				break;
			}
		case T_ReindexStmt:
			classify_reindex(stmt, (ReindexStmt *) parsetree);
			break;
		case T_AlterTableStmt:
			classify_alter_table(stmt, (AlterTableStmt *) parsetree);
			break;
		case T_RenameStmt:
			classify_rename(stmt, (RenameStmt *) parsetree);
			break;
		case T_AlterObjectSchemaStmt:
			classify_set_schema(stmt, (AlterObjectSchemaStmt *) parsetree);
			break;
		case T_VacuumStmt:
			classify_vacuum(stmt, (VacuumStmt *) parsetree);
			break;
		case T_MgClusterStmt:
			classify_cluster(stmt, (MgClusterStmt *) parsetree);
			break;
		case T_RefreshMatViewStmt:
			classify_refresh(stmt, (RefreshMatViewStmt *) parsetree);
			break;
		case T_TruncateStmt:
			classify_truncate(stmt, (TruncateStmt *) parsetree);
			break;
		case T_CreateStmt:
			classify_create_partition(stmt, (CreateStmt *) parsetree);
			classify_create_references(stmt, (CreateStmt *) parsetree);
			break;
		case T_LockStmt:
			classify_lock(stmt, (LockStmt *) parsetree);
			break;
		case T_AlterEnumStmt:
			migguard_classify_enum_rename(stmt, (AlterEnumStmt *) parsetree);
			break;
		default:
			break;
	}
	add_lock_facts(stmt, parsetree);
	return stmt;
}
