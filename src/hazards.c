/*-------------------------------------------------------------------------
 *
 * hazards.c
 *		Facts for the migration-level rules (issue 15): hazards that are
 *		safe statement by statement but break the deployed code, or hold a
 *		lock across the migration.
 *
 *	- not_null_without_default: the column's state after the whole ALTER
 *	  TABLE (its subcommands in order, over the catalog or, in check(),
 *	  what the script did to it so far) is NOT NULL without a default while
 *	  before it was not;
 *	- fk_without_index: no index of the referencing table, existing or
 *	  created earlier in the script, starts with the referencing columns;
 *	- rename_enum_value: an existing table has a column of the enum (or
 *	  of its array type, or of a domain over either);
 *	- strong_lock_held: the locks earlier statements took (holds.c in the
 *	  hook, the script's own record in check()).
 *
 * migguard.check() never executes the script, so the catalog does not
 * show what its earlier statements did: migguard_script_note keeps the
 * little each rule needs (column states, new indexes, locks taken) and the
 * facts above read it first.  Locks are kept only between BEGIN (or START
 * TRANSACTION) and COMMIT or ROLLBACK of the script, as Django's sqlmigrate
 * and Alembic's offline mode write them: outside a block each statement
 * of a psql script is a transaction of its own.
 *
 *-------------------------------------------------------------------------
 */
#include "hazards.h"
#include "facts.h"
#include "holds.h"
#include "lockfacts.h"
#include "relsize.h"
#include "sqltext.h"
#include "stmtkind.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_enum.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_type.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

/* What a column is, as far as deployed INSERTs care. */
typedef struct ColumnState
{
	bool		exists;
	bool		not_null;
	bool		has_default;
	bool		filled;			/* identity or generated: never omitted */
} ColumnState;

/*
 * What check()'s script did so far, in its analysis context (the script's
 * memory context holds it): MigguardAnalysis.script.
 */
typedef struct ScriptColumn
{
	Oid			relid;
	char	   *column;
	ColumnState state;
} ScriptColumn;

typedef struct ScriptIndex
{
	Oid			relid;
	List	   *columns;		/* char *, the leading key columns */
} ScriptIndex;

typedef struct ScriptLock
{
	Oid			relid;
	LOCKMODE	mode;
} ScriptLock;

struct MigguardScript
{
	List	   *columns;		/* ScriptColumn * */
	List	   *indexes;		/* ScriptIndex * */
	List	   *locks;			/* ScriptLock *, of the open transaction */
	bool		in_block;		/* inside BEGIN ... COMMIT */
};

/* The script's columns, indexes and locks; NIL in the hook. */
#define SCRIPT_LIST(cx, field) ((cx)->script ? (cx)->script->field : NIL)

/* Whether check()'s script added the column earlier (always false in the hook). */
bool
migguard_script_added_column(const MigguardAnalysis *cx, Oid relid,
							 const char *column)
{
	ListCell   *lc;
	bool		added = false;

	foreach(lc, SCRIPT_LIST(cx, columns))
	{
		ScriptColumn *sc = (ScriptColumn *) lfirst(lc);

		if (sc->relid == relid && strcmp(sc->column, column) == 0)
			added = sc->state.exists;
	}
	return added;
}

/*
 * The statements a rule here judges that no statement kind of stmtkind.c
 * names (they take no relation lock).
 */
bool
migguard_is_hazard_statement(Node *parsetree)
{
	return IsA(parsetree, AlterEnumStmt) &&
		((AlterEnumStmt *) parsetree)->oldVal != NULL;
}

/* ----------------------------------------------------------------
 * not_null_without_default
 * ----------------------------------------------------------------
 */

static ColumnState
catalog_column_state(const MigguardAnalysis *cx, Oid relid, const char *column)
{
	ColumnState state = {0};
	HeapTuple	tup;
	ListCell   *lc;

	foreach(lc, SCRIPT_LIST(cx, columns))
	{
		ScriptColumn *sc = (ScriptColumn *) lfirst(lc);

		if (sc->relid == relid && strcmp(sc->column, column) == 0)
			state = sc->state;
	}
	if (state.exists)
		return state;

	tup = SearchSysCacheAttName(relid, column);
	if (HeapTupleIsValid(tup))
	{
		Form_pg_attribute att = (Form_pg_attribute) GETSTRUCT(tup);

		state.exists = true;
		state.not_null = att->attnotnull;
		state.has_default = att->atthasdef;
		state.filled = att->attidentity != '\0' || att->attgenerated != '\0';
		ReleaseSysCache(tup);
	}
	return state;
}

/* serial types come with a nextval() default (transformColumnDefinition) */
static bool
type_is_serial(TypeName *typeName)
{
	const char *name;

	if (typeName == NULL || list_length(typeName->names) != 1)
		return false;
	name = strVal(linitial(typeName->names));
	return strstr(name, "serial") != NULL;
}

static void
apply_column_def(ColumnState *state, ColumnDef *def)
{
	ListCell   *lc;

	state->exists = true;
	state->not_null = def->is_not_null;
	state->has_default = def->raw_default != NULL || def->cooked_default != NULL ||
		type_is_serial(def->typeName);
	state->filled = def->identity != '\0' || def->generated != '\0';
	foreach(lc, def->constraints)
	{
		Constraint *con = lfirst_node(Constraint, lc);

		switch (con->contype)
		{
			case CONSTR_NOTNULL:
			case CONSTR_PRIMARY:
				state->not_null = true;
				break;
			case CONSTR_NULL:
				state->not_null = false;
				break;
			case CONSTR_DEFAULT:
				state->has_default = true;
				break;
			case CONSTR_IDENTITY:
			case CONSTR_GENERATED:
				state->filled = true;
				break;
			default:
				break;
		}
	}
}

static bool
names_column(List *names, const char *column)
{
	ListCell   *lc;

	foreach(lc, names)
		if (strcmp(strVal(lfirst(lc)), column) == 0)
			return true;
	return false;
}

/*
 * The column's state after the subcommands of one ALTER TABLE, applied in
 * order over its state before (ATExecCmd runs them in that order for one
 * column; the passes that reorder them never separate a column's DEFAULT
 * from its NOT NULL).
 */
static ColumnState
column_state_after(const MigguardAnalysis *cx, Oid relid, const char *column,
				   List *cmds)
{
	ColumnState state = catalog_column_state(cx, relid, column);
	ListCell   *lc;

	foreach(lc, cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);
		bool		mine = cmd->name != NULL && strcmp(cmd->name, column) == 0;

		if (MG_IS_ADD_COLUMN(cmd->subtype))
		{
			ColumnDef  *def = (ColumnDef *) cmd->def;

			if (strcmp(def->colname, column) == 0 && !state.exists)
				apply_column_def(&state, def);
			continue;
		}
		if (MG_IS_ADD_CONSTRAINT(cmd->subtype))
		{
			Constraint *con = (Constraint *) cmd->def;

			/* 18's ADD CONSTRAINT ... NOT NULL col, NOT VALID too (new rows). */
			if (IsA(con, Constraint) &&
				(con->contype == CONSTR_PRIMARY || con->contype == CONSTR_NOTNULL) &&
				names_column(con->keys, column))
				state.not_null = true;
			continue;
		}
		if (MG_IS_DROP_COLUMN(cmd->subtype))
		{
			if (mine)
				state.exists = false;
			continue;
		}
		if (!mine)
			continue;
		switch (cmd->subtype)
		{
			case AT_ColumnDefault:
				state.has_default = cmd->def != NULL;
				break;
			case AT_SetNotNull:
				state.not_null = true;
				break;
			case AT_DropNotNull:
				state.not_null = false;
				break;
			case AT_AddIdentity:
				state.filled = true;
				break;
			case AT_DropIdentity:
				state.filled = false;
				break;
			case AT_DropExpression:
				state.filled = false;
				break;
			default:
				break;
		}
	}
	return state;
}

/* Deployed INSERTs that omit the column fail. */
static bool
inserts_must_name(ColumnState state)
{
	return state.exists && state.not_null && !state.has_default && !state.filled;
}

/*
 * ALTER COLUMN ... DROP DEFAULT and SET NOT NULL: one op per column the
 * statement leaves NOT NULL without a default when before it was not.
 */
void
migguard_classify_column_defaults(MigguardStatement *stmt, MigguardRelation *rel,
								  LOCKMODE lockmode, List *cmds)
{
	List	   *judged = NIL;
	ListCell   *lc;

	if (rel->relkind != RELKIND_RELATION &&
		rel->relkind != RELKIND_PARTITIONED_TABLE)
		return;
	foreach(lc, cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);
		Constraint *con = (Constraint *) cmd->def;
		char	   *column = cmd->name;
		const char *what;
		bool		drops_default = false;
		MigguardOp *op;
		AttrNumber	attnum;

		if (cmd->subtype == AT_ColumnDefault && cmd->def == NULL)
		{
			what = "DROP DEFAULT";
			drops_default = true;
		}
		else if (cmd->subtype == AT_SetNotNull)
			what = "SET NOT NULL";
		else if (MG_IS_ADD_CONSTRAINT(cmd->subtype) && IsA(con, Constraint) &&
				 con->contype == CONSTR_NOTNULL && list_length(con->keys) == 1)
		{
			/* 18: a NOT NULL constraint, NOT VALID or not, binds new rows. */
			what = "ADD CONSTRAINT ... NOT NULL";
			column = strVal(linitial(con->keys));
		}
		else
			continue;
		if (column == NULL || list_member(judged, makeString(column)))
			continue;
		judged = lappend(judged, makeString(column));
		if (inserts_must_name(catalog_column_state(stmt->analysis, rel->relid,
												   column)) ||
			!inserts_must_name(column_state_after(stmt->analysis, rel->relid,
												  column, cmds)))
			continue;
		op = migguard_add_op(stmt, MG_OP_NOT_NULL_NO_DEFAULT, lockmode, rel);
		op->column = pstrdup(column);
		op->command = what;
		if (drops_default)
			op->flags |= MG_F_DROPS_DEFAULT;
		attnum = get_attnum(rel->relid, column);
		if (attnum != InvalidAttrNumber)
		{
			Oid			typid;
			int32		typmod;
			Oid			collid;

			get_atttypetypmodcoll(rel->relid, attnum, &typid, &typmod, &collid);
			op->column_type = format_type_with_typemod(typid, typmod);
		}
	}
}

/* ----------------------------------------------------------------
 * fk_without_index
 * ----------------------------------------------------------------
 */

/* Whether the first n key columns of the index are exactly the columns. */
static bool
index_starts_with(Oid relid, int2vector *indkey, List *columns)
{
	int			n = list_length(columns);

	if (indkey->dim1 < n)
		return false;
	for (int i = 0; i < n; i++)
	{
		char	   *name;

		if (indkey->values[i] == 0)
			return false;		/* an expression */
		name = get_attname(relid, indkey->values[i], true);
		if (name == NULL || !names_column(columns, name))
			return false;
	}
	return true;
}

/*
 * Any index of the table, as RelationGetIndexList would list it (valid or
 * not: CREATE INDEX CONCURRENTLY may still be running), read from pg_index
 * without opening the table.
 */
static bool
catalog_index_covers(Oid relid, List *columns)
{
	Relation	pg_index;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	bool		found = false;

	ScanKeyInit(&key, Anum_pg_index_indrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	pg_index = table_open(IndexRelationId, AccessShareLock);
	scan = systable_beginscan(pg_index, IndexIndrelidIndexId, true, NULL, 1, &key);
	while (!found && HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_index index = (Form_pg_index) GETSTRUCT(tup);

		found = index_starts_with(relid, &index->indkey, columns);
	}
	systable_endscan(scan);
	table_close(pg_index, AccessShareLock);
	return found;
}

static bool
script_index_covers(const MigguardAnalysis *cx, Oid relid, List *columns)
{
	ListCell   *lc;

	foreach(lc, SCRIPT_LIST(cx, indexes))
	{
		ScriptIndex *si = (ScriptIndex *) lfirst(lc);
		ListCell   *c;
		int			i = 0;
		bool		covers = list_length(si->columns) >= list_length(columns);

		foreach(c, si->columns)
		{
			if (i++ >= list_length(columns))
				break;
			if (!names_column(columns, (char *) lfirst(c)))
				covers = false;
		}
		if (si->relid == relid && covers)
			return true;
	}
	return false;
}

/*
 * ADD FOREIGN KEY (ALTER TABLE ... ADD CONSTRAINT, or a REFERENCES clause of
 * ADD COLUMN, whose column is new and so has no index yet).  RI_Initial_Check
 * and the referenced side's RI triggers (ri_triggers.c) look the rows up by
 * the referencing columns: without an index that starts with them, every
 * DELETE or key UPDATE on the referenced table scans this one.
 */
void
migguard_classify_fk_index(MigguardStatement *stmt, MigguardOp *op,
						   Constraint *con, const char *column)
{
	List	   *columns = NIL;
	StringInfoData buf;
	ListCell   *lc;

	if (con->contype != CONSTR_FOREIGN)
		return;
	if (column != NULL)
		columns = list_make1(makeString(pstrdup(column)));
	else
		columns = con->fk_attrs;
	if (columns == NIL)
		return;

	/*
	 * A temporal key (18's PERIOD): the referenced side's triggers look the
	 * rows up by "$1 = fkatt AND $n && fkperiod" (ri_triggers.c), so an
	 * index that starts with the columns before PERIOD serves them.
	 */
	if (MG_FK_WITH_PERIOD(con) && list_length(columns) > 1)
		columns = list_truncate(list_copy(columns), list_length(columns) - 1);
	initStringInfo(&buf);
	foreach(lc, columns)
		appendStringInfo(&buf, "%s%s", buf.len ? ", " : "",
						 migguard_quote_ident(strVal(lfirst(lc))));
	op->columns = buf.data;
	if (column == NULL &&
		(catalog_index_covers(op->rel->relid, columns) ||
		 script_index_covers(stmt->analysis, op->rel->relid, columns)))
		return;
	op->flags |= MG_F_FK_UNINDEXED;
}

/* ----------------------------------------------------------------
 * rename_enum_value
 * ----------------------------------------------------------------
 */

static bool
enum_has_label(Oid enumid, const char *label)
{
	HeapTuple	tup = SearchSysCache2(ENUMTYPOIDNAME, ObjectIdGetDatum(enumid),
									  CStringGetDatum(label));

	if (!HeapTupleIsValid(tup))
		return false;
	ReleaseSysCache(tup);
	return true;
}

/*
 * The first existing table with a column whose type is the enum, its array
 * type, or a domain over either (found through pg_depend: a column depends
 * on its type, find_composite_type_dependencies does the same walk).
 */
static Oid
table_using_type(Oid typid, int depth)
{
	Relation	depRel;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			result = InvalidOid;

	if (depth > 8)
		return InvalidOid;
	depRel = table_open(DependRelationId, AccessShareLock);
	scan = migguard_dependents_scan(depRel, TypeRelationId, typid, 0);
	while (!OidIsValid(result) && HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);

		if (dep->classid == RelationRelationId && dep->objsubid > 0)
		{
			char		relkind = get_rel_relkind(dep->objid);

			if ((relkind == RELKIND_RELATION || relkind == RELKIND_PARTITIONED_TABLE ||
				 relkind == RELKIND_FOREIGN_TABLE) &&
				!migguard_relation_is_new(dep->objid) &&
				get_rel_persistence(dep->objid) != RELPERSISTENCE_TEMP)
				result = dep->objid;
		}
		else if (dep->classid == TypeRelationId)
		{
			char		typtype = get_typtype(dep->objid);

			/* the array type, and domains over the enum or its array */
			if (typtype == TYPTYPE_DOMAIN ||
				get_element_type(dep->objid) == typid)
				result = table_using_type(dep->objid, depth + 1);
		}
	}
	systable_endscan(scan);
	table_close(depRel, AccessShareLock);
	return result;
}

/*
 * ALTER TYPE ... RENAME VALUE: judged only where PostgreSQL will do it
 * (RenameEnumLabel: the owner, an enum, the old label present, the new one
 * not).
 */
void
migguard_classify_enum_rename(MigguardStatement *stmt, AlterEnumStmt *alter)
{
	Oid			typid;
	Oid			relid;
	MigguardOp *op;

	if (alter->oldVal == NULL)
		return;					/* ADD VALUE */
	typid = LookupTypeNameOid(NULL, makeTypeNameFromNameList(alter->typeName), true);
	if (!OidIsValid(typid) || get_typtype(typid) != TYPTYPE_ENUM ||
		!mg_type_ownercheck(typid, GetUserId()) ||
		!enum_has_label(typid, alter->oldVal) ||
		enum_has_label(typid, alter->newVal))
		return;
	relid = table_using_type(typid, 0);
	if (!OidIsValid(relid))
		return;
	op = migguard_add_op(stmt, MG_OP_RENAME_ENUM_VALUE, NoLock,
						 migguard_describe_relation(stmt->analysis, relid));
	op->old_label = pstrdup(alter->oldVal);
	op->new_name = pstrdup(alter->newVal);
	op->column_type = format_type_be_qualified(typid);
}

/* ----------------------------------------------------------------
 * strong_lock_held: the locks of earlier statements
 * ----------------------------------------------------------------
 */

/*
 * One MG_OP_OTHER_LOCK op, marked MG_F_HELD_EARLIER, per relation an
 * earlier statement of this transaction (or of check()'s script) locked in
 * a mode that blocks reads or writes.
 */
void
migguard_add_held_locks(MigguardStatement *stmt)
{
	ListCell   *lc;

	if (stmt->analysis->dry_run)
	{
		foreach(lc, SCRIPT_LIST(stmt->analysis, locks))
		{
			ScriptLock *sl = (ScriptLock *) lfirst(lc);
			MigguardOp *op;

			if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(sl->relid)))
				continue;
			op = migguard_add_op(stmt, MG_OP_OTHER_LOCK, sl->mode,
								 migguard_describe_relation(stmt->analysis, sl->relid));
			op->flags |= MG_F_HELD_EARLIER;
		}
		return;
	}
	foreach(lc, migguard_holds_current())
	{
		MigguardHold *hold = (MigguardHold *) lfirst(lc);
		MigguardOp *op = migguard_add_op(stmt, MG_OP_OTHER_LOCK, hold->mode,
										 migguard_describe_relation(stmt->analysis, hold->relid));

		op->flags |= MG_F_HELD_EARLIER;
	}
}

/* ----------------------------------------------------------------
 * check(): what the script did
 * ----------------------------------------------------------------
 */

static void
note_alter_columns(MigguardAnalysis *cx, AlterTableStmt *alter)
{
	Oid			relid = migguard_lookup_relid(cx, alter->relation);
	ListCell   *lc;

	if (!OidIsValid(relid))
		return;
	foreach(lc, alter->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);
		const char *column = MG_IS_ADD_COLUMN(cmd->subtype) ?
			((ColumnDef *) cmd->def)->colname : cmd->name;
		ScriptColumn *sc;

		if (column == NULL || alter->objtype != OBJECT_TABLE)
			continue;
		sc = palloc0(sizeof(ScriptColumn));
		sc->relid = relid;
		sc->column = pstrdup(column);
		sc->state = column_state_after(cx, relid, column, alter->cmds);
		/* exists = false is "not known here": a dropped column is absent */
		cx->script->columns = lappend(cx->script->columns, sc);
	}
}

static void
note_index(MigguardAnalysis *cx, IndexStmt *index)
{
	Oid			relid = migguard_lookup_relid(cx, index->relation);
	ScriptIndex *si;
	ListCell   *lc;

	if (!OidIsValid(relid))
		return;
	si = palloc0(sizeof(ScriptIndex));
	si->relid = relid;
	foreach(lc, index->indexParams)
	{
		IndexElem  *elem = lfirst_node(IndexElem, lc);

		if (elem->name == NULL)
			break;				/* an expression ends the usable prefix */
		si->columns = lappend(si->columns, pstrdup(elem->name));
	}
	if (si->columns != NIL)
		cx->script->indexes = lappend(cx->script->indexes, si);
}

static void
note_locks(MigguardScript *script, MigguardStatement *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->ops)
	{
		MigguardOp *op = (MigguardOp *) lfirst(lc);
		ScriptLock *sl;
		ListCell   *l2;
		bool		known = false;

		if (!migguard_lock_blocks_others(op) ||
			(op->flags & MG_F_NO_TRANSACTION_BLOCK))
			continue;
		foreach(l2, script->locks)
		{
			sl = (ScriptLock *) lfirst(l2);
			if (sl->relid == op->rel->relid)
			{
				sl->mode = Max(sl->mode, op->lockmode);
				known = true;
			}
		}
		if (known)
			continue;
		sl = palloc0(sizeof(ScriptLock));
		sl->relid = op->rel->relid;
		sl->mode = op->lockmode;
		script->locks = lappend(script->locks, sl);
	}
}

/*
 * After check() judged a statement: remember what later statements must
 * see.  stmt is NULL for a statement that was not judged.
 */
void
migguard_script_note(MigguardAnalysis *cx, MemoryContext script_context,
					 Node *parsetree, MigguardStatement *stmt)
{
	MemoryContext oldcontext = MemoryContextSwitchTo(script_context);

	if (cx->script == NULL)
		cx->script = palloc0(sizeof(MigguardScript));
	if (IsA(parsetree, TransactionStmt))
	{
		TransactionStmtKind kind = ((TransactionStmt *) parsetree)->kind;

		if (kind == TRANS_STMT_BEGIN || kind == TRANS_STMT_START)
			cx->script->in_block = true;
		else if (kind == TRANS_STMT_COMMIT || kind == TRANS_STMT_ROLLBACK ||
				 kind == TRANS_STMT_PREPARE)
		{
			cx->script->in_block = false;
			cx->script->locks = NIL;
		}
	}
	else if (IsA(parsetree, AlterTableStmt))
		note_alter_columns(cx, (AlterTableStmt *) parsetree);
	else if (IsA(parsetree, IndexStmt))
		note_index(cx, (IndexStmt *) parsetree);
	if (stmt != NULL && cx->script->in_block)
		note_locks(cx->script, stmt);
	MemoryContextSwitchTo(oldcontext);
}
