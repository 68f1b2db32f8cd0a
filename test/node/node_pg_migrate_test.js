'use strict';
/*
 * test/node/node_pg_migrate_test.js -- node-pg-migrate (7.6, npm; pinned in
 * test/node/package-lock.json) against a server running migguard, its CLI
 * run with contrib/node/register.js preloaded.  TAP output, run by
 * `prove --exec node` with NODE_PATH at the node_modules that `npm ci` made
 * from test/node/package-lock.json; connection settings from libpq's
 * environment (PGHOST, PGPORT, PGUSER, a superuser).  Creates and drops the
 * database migguard_node, whose migguard.large_table_size is 64kB.  The
 * migrations are files in a temporary directory:
 *
 *   1714550400001_create-items         createTable, 5000 rows              migrated
 *   1714550400002_add-index-on-items   createIndex (in a transaction)      blocked, migguard's message on the CLI's output
 *   1714550400002_add-index-on-items   rewritten: pgm.noTransaction(),
 *                                      createIndex { concurrently: true }  migrated
 */

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Client } = require('pg');

const DB = 'migguard_node';
const root = path.resolve(__dirname, '..', '..');
const register = path.join(root, 'contrib', 'node', 'register.js');
const cli = require.resolve('node-pg-migrate/bin/node-pg-migrate');
let n = 0;
let fails = 0;

function ok(cond, desc) {
	n += 1;
	console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${desc}`);
	if (!cond) {
		fails += 1;
	}
	return cond;
}

function diag(text) {
	for (const line of String(text).split('\n')) {
		console.log(`# ${line}`);
	}
}

function connect(database) {
	// pg reads PGHOST, PGPORT and PGUSER like libpq.
	const c = new Client({ database });
	return c.connect().then(() => c);
}

/* migrate(DIR): `node-pg-migrate up` as a user runs it, with migguard's
 * tagging preloaded; { status, output }. */
function migrate(dir) {
	const host = process.env.PGHOST || '/var/run/postgresql';
	const url = `postgresql://${encodeURIComponent(process.env.PGUSER || os.userInfo().username)}@/${DB}` +
		`?host=${encodeURIComponent(host)}&port=${process.env.PGPORT || 5432}`;
	const r = spawnSync(process.execPath, [cli, 'up', '-m', dir], {
		cwd: dir,
		encoding: 'utf8',
		env: {
			...process.env,
			DATABASE_URL: url,
			NODE_OPTIONS: `--require ${register}`,
		},
	});
	return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

function migration(dir, name, body) {
	fs.writeFileSync(path.join(dir, `${name}.js`), `'use strict';\n${body}\n`);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
	console.log('1..9');
	const admin = await connect('postgres');
	await admin.query('SET client_min_messages = warning');
	await admin.query(`DROP DATABASE IF EXISTS ${DB}`);
	await admin.query(`CREATE DATABASE ${DB}`);
	await admin.query(`ALTER DATABASE ${DB} SET migguard.large_table_size = '64kB'`);
	const db = await connect(DB);
	await db.query('CREATE EXTENSION migguard');
	const q = async (sql) => Object.values((await db.query(sql)).rows[0])[0];
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migguard-node-'));
	try {
		migration(dir, '1714550400001_create-items', `exports.up = (pgm) => {
	pgm.createTable('items', { id: 'id', name: 'text' });
	pgm.sql("INSERT INTO items (name) SELECT 'item ' || g FROM generate_series(1, 5000) g");
};`);
		let r = migrate(dir);
		ok(r.status === 0, 'node-pg-migrate up runs create-items') || diag(r.output);
		ok(Number(await q(`SELECT count(*) FROM migguard.change_log
			WHERE tag = '1714550400001_create-items' AND command_tag = 'CREATE TABLE'`)) === 1,
		'create-items is recorded in change_log under its migration name (contrib/node)');

		// The unsafe form: a plain CREATE INDEX of the large table.
		migration(dir, '1714550400002_add-index-on-items', `exports.up = (pgm) => {
	pgm.createIndex('items', 'name');
};`);
		r = migrate(dir);
		ok(r.status !== 0, 'createIndex on the large table fails node-pg-migrate up');
		ok(r.output.includes('would block writes for the whole index build') &&
			r.output.includes('MG001') && r.output.includes('create_index'),
		"the CLI shows migguard's message, SQLSTATE MG001 and the rule name") || diag(r.output);
		let blocked = false;
		for (let i = 0; i < 20 && !blocked; i++) {
			blocked = Number(await q(`SELECT count(*) FROM migguard.change_log
				WHERE tag = '1714550400002_add-index-on-items' AND verdict = 'blocked'
				AND command_tag = 'CREATE INDEX'`)) >= 1;
			if (!blocked) {
				await sleep(200);
			}
		}
		ok(blocked, "the blocked attempt is recorded under the migration's name");
		ok(await q(`SELECT to_regclass('items_name_index') IS NULL AND NOT EXISTS
			(SELECT FROM pgmigrations WHERE name = '1714550400002_add-index-on-items')`),
		'no index was built and the migration is not marked as run');

		// The safe form.
		migration(dir, '1714550400002_add-index-on-items', `exports.up = (pgm) => {
	pgm.noTransaction();
	pgm.createIndex('items', 'name', { concurrently: true });
};`);
		r = migrate(dir);
		ok(r.status === 0, 'createIndex { concurrently: true } with pgm.noTransaction() runs') || diag(r.output);
		ok(Number(await q(`SELECT count(*) FROM migguard.change_log
			WHERE tag = '1714550400002_add-index-on-items' AND verdict = 'allowed'
			AND command_tag = 'CREATE INDEX'`)) === 1 &&
			await q("SELECT to_regclass('items_name_index') IS NOT NULL"),
		"the index exists and its concurrent build is recorded as allowed under the migration's name");

		// The tag is a bound parameter, and the previous value comes back.
		const { install } = require(path.join(root, 'contrib', 'node', 'migguard-tag.js'));
		const calls = [];
		class FakeMigration {
			async apply() {
				calls.push(await q("SELECT current_setting('migguard.tag')"));
			}
		}
		install(FakeMigration);
		const m = new FakeMigration();
		m.name = "it's; RESET ALL";
		m.db = db;
		await db.query("SET migguard.tag = 'before'");
		await m.apply('up');
		ok(calls[0] === "it's; RESET ALL" && await q("SELECT current_setting('migguard.tag')") === 'before',
			'install() sets the name as the tag while a migration runs and restores the previous one') ||
			diag(JSON.stringify(calls));
	} finally {
		fs.rmSync(dir, { recursive: true, force: true });
		await db.end();
		await admin.query(`DROP DATABASE ${DB}`);
		await admin.end();
	}
	process.exitCode = fails > 0 ? 1 : 0;
}

main().catch((e) => {
	console.log(`Bail out! ${e.stack || e}`);
	process.exitCode = 1;
});
