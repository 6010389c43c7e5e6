// node-postgres (pg 8) driver cases, run by DriverCasesTests against the TimeFusion silo and against a throwaway
// PostgreSQL 15 with the same expectations. Connection settings come from the standard PG* environment variables
// (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE). Each case prints exactly one JSON line:
//   {"case": name, "ok": {...}}           what the case observed (rows normalised, field type OIDs), or
//   {"case": name, "error": "SQLSTATE"}  the SQLSTATE the case failed with.
// The script never stops on a failing case: every case runs, so one run shows every difference.
'use strict';
const { Client } = require('pg');
const Cursor = require('pg-cursor');
const { from: copyFrom } = require('pg-copy-streams');
const { pipeline } = require('node:stream/promises');
const { Readable } = require('node:stream');

const table = 'node_drv_ev';

// Values as JSON can carry them: dates as ISO strings, objects with their keys sorted (jsonb orders keys its own way,
// which no client may rely on), everything else as the driver parsed it.
const norm = (v) => (v instanceof Date ? v.toISOString()
  : Array.isArray(v) ? v.map(norm)
  : v !== null && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, norm(v[k])]))
  : v);
const rowsOf = (result) => result.rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, norm(v)])));
const shape = (result) => ({ types: result.fields.map((f) => `${f.name}:${f.dataTypeID}`), rows: rowsOf(result) });

async function connect(extra = {}) {
  const client = new Client({ application_name: 'node-driver-cases', ...extra });
  client.on('error', () => {}); // a dropped connection shows up as a failed query of its case
  await client.connect();
  return client;
}

/** Runs fn, returns its SQLSTATE if it failed (or a marker if it did not). */
async function sqlstateOf(fn) {
  try {
    await fn();
    return 'no error';
  } catch (e) {
    return e.code ?? `no SQLSTATE: ${e.message}`;
  }
}

const cases = {
  async parameters_of_every_type(c) {
    const r = await c.query(
      'SELECT $1::int4 AS i4, $2::int8 AS i8, $3::float8 AS f8, $4::text AS t, $5::bool AS b, $6::timestamptz AS ts, $7::jsonb AS j, $8::text[] AS arr, $9::text AS nul',
      [42, '9007199254740993', 1.5, 'héllo "wörld"', true, new Date('2024-01-01T10:00:00.123Z'), { a: 1, b: [true, null] }, ['x', 'y z', null, 'NULL', 'q"uote', 'back\\slash'], null]);
    return shape(r);
  },

  async insert_with_parameters_and_read_back(c) {
    const insert = `INSERT INTO ${table} (project_id, timestamp, name, n, big, f, ok, attributes, tags) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`;
    const a = await c.query(insert, ['default', new Date('2024-01-01T10:00:00Z'), 'first', 1, '5000000000', 0.25, true,
      JSON.stringify({ http: { method: 'GET' }, n: 3 }), ['x', 'y z']]);
    const b = await c.query(insert, ['default', '2024-01-01 10:01:00+00', 'second', null, null, null, false, null, []]);
    const r = await c.query(`SELECT name, n, big, f, ok, tags FROM ${table} ORDER BY timestamp`);
    return { inserted: [a.rowCount, b.rowCount], command: a.command, ...shape(r) };
  },

  async reading_jsonb(c) {
    const r = await c.query(`SELECT attributes, attributes->'http' AS http, attributes->>'n' AS n_text, '{"k":[1,2]}'::jsonb AS lit FROM ${table} WHERE name = $1`, ['first']);
    return shape(r);
  },

  async transaction_commit(c) {
    await c.query('BEGIN');
    await c.query(`INSERT INTO ${table} (project_id, timestamp, name) VALUES ('default', '2024-01-02 00:00:00+00', 'committed')`);
    await c.query('COMMIT');
    const r = await c.query(`SELECT count(*)::int AS n FROM ${table} WHERE name = 'committed'`);
    return shape(r);
  },

  async transaction_rollback(c) {
    await c.query('BEGIN');
    await c.query(`INSERT INTO ${table} (project_id, timestamp, name) VALUES ('default', '2024-01-02 00:00:01+00', 'rolled back')`);
    await c.query('ROLLBACK');
    const r = await c.query(`SELECT count(*)::int AS n FROM ${table} WHERE name = 'rolled back'`);
    return shape(r);
  },

  async error_aborts_the_block_25P02(c) {
    await c.query('BEGIN');
    const first = await sqlstateOf(() => c.query('SELECT * FROM node_drv_missing WHERE x = $1', [1]));
    const next = await sqlstateOf(() => c.query('SELECT 1'));
    const end = await c.query('COMMIT'); // PostgreSQL answers COMMIT of an aborted block with ROLLBACK
    return { first, next, end: end.command };
  },

  async read_only_block_refuses_writes_25006(c) {
    await c.query('BEGIN READ ONLY');
    const read = await c.query(`SELECT count(*)::int AS n FROM ${table}`);
    const write = await sqlstateOf(() => c.query(`INSERT INTO ${table} (project_id, timestamp, name) VALUES ($1, $2, $3)`, ['default', '2024-01-02 00:00:02+00', 'ro']));
    await c.query('ROLLBACK');
    return { read: rowsOf(read), write };
  },

  async cursor_with_a_fetch_size(c) {
    // pg-cursor: Execute with a row limit on one portal, PortalSuspended between batches.
    const cursor = c.query(new Cursor(`SELECT name FROM ${table} ORDER BY timestamp`));
    const batches = [];
    for (;;) {
      const rows = await cursor.read(2);
      if (rows.length === 0) break;
      batches.push(rows.map((r) => r.name));
    }
    await cursor.close();
    return { batches };
  },

  async declare_fetch_close(c) {
    await c.query('BEGIN');
    await c.query(`DECLARE node_cur CURSOR FOR SELECT name FROM ${table} ORDER BY timestamp`);
    const first = await c.query('FETCH 2 FROM node_cur');
    const rest = await c.query('FETCH ALL FROM node_cur');
    await c.query('CLOSE node_cur');
    await c.query('COMMIT');
    return { first: rowsOf(first), rest: rowsOf(rest) };
  },

  async copy_from_stdin(c) {
    const lines = [
      'default\t2024-01-03 00:00:00+00\tcopied 1\t7\t{"k":"v"}\t{a,"b c"}\n',
      'default\t2024-01-03 00:00:01+00\tcopied\\ttab\t\\N\t\\N\t{}\n',
    ];
    const stream = c.query(copyFrom(`COPY ${table} (project_id, timestamp, name, n, attributes, tags) FROM STDIN`));
    await pipeline(Readable.from(lines), stream);
    const r = await c.query(`SELECT name, n, attributes, tags FROM ${table} WHERE timestamp >= '2024-01-03' ORDER BY timestamp`);
    return { copied: stream.rowCount, ...shape(r) };
  },

  async metadata_queries(c) {
    const columns = await c.query(
      "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1 AND column_name <> 'date' ORDER BY ordinal_position", [table]);
    const types = await c.query("SELECT typname, oid::int AS oid FROM pg_type WHERE typname = ANY($1) ORDER BY typname", [['int4', 'int8', 'text', 'jsonb', 'float8', 'bool', 'timestamptz', '_text']]);
    const tables = await c.query('SELECT tablename FROM pg_catalog.pg_tables WHERE tablename = $1', [table]);
    const setting = await c.query("SELECT current_setting('application_name') AS app");
    return { columns: rowsOf(columns), types: rowsOf(types), tables: rowsOf(tables), setting: rowsOf(setting) };
  },

  async errors_with_parameters(c) {
    return {
      bad_int_parameter: await sqlstateOf(() => c.query(`SELECT name FROM ${table} WHERE n = $1`, ['abc'])),
      bad_cast_parameter: await sqlstateOf(() => c.query('SELECT $1::int AS v', ['x'])),
      missing_table: await sqlstateOf(() => c.query('SELECT * FROM node_drv_missing WHERE x = $1', [1])),
      missing_column: await sqlstateOf(() => c.query(`SELECT nope FROM ${table} WHERE name = $1`, ['first'])),
      syntax: await sqlstateOf(() => c.query('SELEC $1', [1])),
      bad_array_text: await sqlstateOf(() => c.query('SELECT $1::text[] AS a', ['{a,"b'])),
      not_null_violation: await sqlstateOf(() => c.query(`INSERT INTO ${table} (project_id, timestamp, name) VALUES ($1, $2, $3)`, ['default', null, 'x'])),
      // the connection still works after the errors
      after: rowsOf(await c.query('SELECT $1::int + 1 AS v', [1])),
    };
  },

  async untyped_parameters_in_arithmetic(c) {
    // Every parameter goes out as text with OID 0; each takes the type of the other operand.
    const r = await c.query(`SELECT n * $1 AS times, n + $2 AS plus, f / $3 AS div, $4 - n AS minus, n % $5 AS rest FROM ${table} WHERE name = $6`,
      [3, '2', 0.5, 10, 2, 'first']);
    return { rows: rowsOf(r) };
  },

  // Last: it changes rows other cases count.
  async update_and_delete_in_a_block(c) {
    await c.query(`INSERT INTO ${table} (project_id, timestamp, name, n) VALUES ('default', '2024-01-04 00:00:00+00', 'blk-old', 1), ('default', '2024-01-04 00:00:01+00', 'blk-gone', 2)`);
    await c.query('BEGIN');
    await c.query(`INSERT INTO ${table} (project_id, timestamp, name, n) VALUES ($1, $2, $3, $4)`, ['default', '2024-01-04 00:00:02+00', 'blk-new', 3]);
    // node-postgres sends $1 untyped (OID 0, text): PostgreSQL types it from the other operand of +.
    const updated = await c.query(`UPDATE ${table} SET n = n + $1 WHERE name = $2`, [10, 'blk-old']);
    const deleted = await c.query(`DELETE FROM ${table} WHERE name = $1`, ['blk-gone']);
    // Also reaches the block's own INSERT before it (its count is not compared: TimeFusion counts committed rows only).
    await c.query(`UPDATE ${table} SET n = n * 100 WHERE name LIKE 'blk-%'`);
    await c.query('COMMIT');
    await c.query('BEGIN');
    await c.query(`DELETE FROM ${table} WHERE name LIKE $1`, ['blk-%']);
    await c.query('ROLLBACK');
    const r = await c.query(`SELECT name, n FROM ${table} WHERE name LIKE 'blk-%' ORDER BY name`);
    return { updated: updated.rowCount, deleted: deleted.rowCount, rows: rowsOf(r) };
  },
};

async function main() {
  const setup = await connect();
  await setup.query(`DROP TABLE IF EXISTS ${table}`);
  await setup.query(`CREATE TABLE ${table} (project_id text NOT NULL, timestamp timestamptz NOT NULL, name text, n int, big bigint, f float8, ok boolean, attributes jsonb, tags text[])`);
  await setup.end();
  for (const [name, run] of Object.entries(cases)) {
    let client;
    let line;
    try {
      client = await connect();
      line = { case: name, ok: await run(client) };
    } catch (e) {
      line = { case: name, error: e.code ?? `no SQLSTATE: ${e.message}` };
    } finally {
      if (client) await client.end().catch(() => {});
    }
    process.stdout.write(JSON.stringify(line) + '\n');
  }
}

main().catch((e) => {
  process.stderr.write(`driver-cases: ${e.stack ?? e}\n`);
  process.exit(1);
});
