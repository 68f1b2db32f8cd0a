'use strict';
/*
 * contrib/node/migguard-tag.js -- label each node-pg-migrate migration's DDL
 * in migguard's audit log.
 *
 * migguard records every DDL statement in migguard.change_log together with
 * the value of the migguard.tag setting at the time.  This module sets that
 * tag to the migration's file name without its extension (node-pg-migrate's
 * migration name, for example 1714550400000_add-index-on-items) while the
 * migration runs up, and to '<name>:down' while it runs down, so that
 *
 *     SELECT command_tag, verdict, statement
 *       FROM migguard.change_log WHERE tag = '1714550400000_add-index-on-items';
 *
 * lists what the migration did, including the attempts migguard blocked.
 *
 * Usage, with node-pg-migrate 7 (CommonJS or ESM migrations):
 *
 *   CLI:     NODE_OPTIONS="--require ./register.js" npx node-pg-migrate up
 *   runner:  require('./migguard-tag').install(); then call runner() as usual
 *
 * (copy migguard-tag.js and register.js into the project, next to its
 * node_modules).
 *
 * How it works: node-pg-migrate runs every migration of one run on a single
 * connection, through Migration.prototype.apply.  install() wraps that
 * method: before the migration's statements it runs
 *
 *     SELECT pg_catalog.set_config('migguard.tag', $1, false)
 *
 * with the name as a bound parameter (never pasted into SQL text) -- a
 * session-level setting, so it covers migrations with pgm.noTransaction()
 * (CREATE INDEX CONCURRENTLY) too.  Afterwards the previous value is put
 * back.  When migguard blocks a statement the migration's transaction is
 * aborted; the attempt is recorded with the tag in force when it was made,
 * and the restore is skipped (the transaction accepts no command until the
 * runner rolls it back, which undoes the setting anyway).  On a server
 * without migguard the setting is a harmless placeholder.  migguard keeps
 * the first 127 bytes of a tag in the rows of blocked attempts.
 */

const SETTING = 'migguard.tag';

/* The tag recorded for MIGRATION (a node-pg-migrate Migration) run in
 * DIRECTION ('up' or 'down'). */
function tagFor(migration, direction) {
	return direction === 'down' ? `${migration.name}:down` : migration.name;
}

/* node-pg-migrate's Migration class, as the project (the current directory)
 * resolves it, so that the CLI's copy is the one wrapped. */
function migrationClass() {
	const where = require.resolve('node-pg-migrate/dist/migration', {
		paths: [process.cwd(), __dirname],
	});
	return require(where).Migration;
}

/* Wrap Migration.prototype.apply (idempotent); MIGRATION_CLASS defaults to
 * the project's node-pg-migrate. */
function install(MigrationClass = migrationClass()) {
	const proto = MigrationClass.prototype;
	if (proto.apply.migguardTagging) {
		return;
	}
	const apply = proto.apply;
	const wrapped = async function (direction, ...rest) {
		if (this.options && this.options.dryRun) {
			return apply.call(this, direction, ...rest);
		}
		const { rows } = await this.db.query(
			'SELECT pg_catalog.current_setting($1, true) AS previous', [SETTING]);
		const previous = rows[0].previous || '';
		await this.db.query('SELECT pg_catalog.set_config($1, $2, false)',
			[SETTING, tagFor(this, direction)]);
		const result = await apply.call(this, direction, ...rest);
		// Only after success: a failed migration left its transaction aborted.
		await this.db.query('SELECT pg_catalog.set_config($1, $2, false)', [SETTING, previous]);
		return result;
	};
	wrapped.migguardTagging = true;
	proto.apply = wrapped;
}

module.exports = { install, tagFor, SETTING };
