// The DuckDB writer process of a DuckDB sink (see committer.ts): the only opener of the database
// file. DuckDB allows one writer process, and its Node binding aborts the whole process when a
// worker thread that has a query in flight is terminated (a killed task manager), so the
// committer keeps the database in a child process of its own: a killed committer closes the IPC
// channel, this process exits, and DuckDB rolls back what was not committed when the next one
// opens the file. Plain JavaScript so it starts without the TypeScript loader.
//
// Requests (one at a time, answered { id, ok, result } or { id, ok: false, message }):
//   { op: 'commit', guardSql, steps }  BEGIN; skip (ROLLBACK) if guardSql counts > 0 (committed before);
//        steps: { sql } | { append: { dir, file, table, types, direct } } (a staged batch); COMMIT
//   { op: 'run', sql }        a statement outside a commit (DDL of the commit log)
//   { op: 'query', sql }      rows as JSON
//   { op: 'publish', target } CHECKPOINT, copy the file beside target, fsync, rename into place
//   { op: 'release' }        close the file (the next request opens it again): sinks sharing a file take turns
//   { op: 'close' }
import { copyFile, open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { deserialize } from 'node:v8';
import { DuckDBInstance, DuckDBTimestampValue } from '@duckdb/node-api';

const dbPath = process.argv[2];
process.on('disconnect', () => process.exit(0));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let instance;
let conn;

async function connect() {
  // A previous writer process may still be exiting (it holds the file lock for a few ms).
  for (let attempt = 0; ; attempt++) {
    try {
      instance = await DuckDBInstance.create(dbPath);
      conn = await instance.connect();
      return;
    } catch (e) {
      if (attempt >= 200 || !/lock/i.test(String(e.message))) throw e;
      await sleep(25);
    }
  }
}

const APPEND = {
  BOOLEAN: (a, v) => a.appendBoolean(v === 1),
  INTEGER: (a, v) => a.appendInteger(v),
  BIGINT: (a, v) => a.appendBigInt(v),
  DOUBLE: (a, v) => a.appendDouble(v),
  VARCHAR: (a, v) => a.appendVarchar(v),
  TIMESTAMP: (a, v) => a.appendTimestamp(new DuckDBTimestampValue(BigInt(v) * 1000n)),
  DATE: (a, v) => a.appendVarchar(v),
  BLOB: (a, v) => a.appendBlob(v),
  JSON: (a, v) => a.appendVarchar(v),
};

/** The appender fills columns by position: the table must have exactly the stream's columns, in order. */
async function checkLayout(table, columns) {
  const r = await conn.runAndReadAll(`SELECT column_name FROM information_schema.columns WHERE table_schema = 'main' AND table_name = '${table.replaceAll("'", "''")}' ORDER BY ordinal_position`);
  const actual = r.getRows().map((x) => x[0]);
  if (actual.join(',') !== columns.join(',')) {
    throw new Error(`Catalog mismatch: table '${table}' has columns (${actual.join(', ')}), the stream has (${columns.join(', ')}); alter the table or write to a new one`);
  }
}

/**
 * Appends a staged batch (v8-serialized columns, staging.ts) to the temp stage table (with its
 * delete flags and sequence numbers), or straight to an append-only table (`direct`).
 */
async function append({ dir, file, table, types, direct, columns: names }) {
  if (direct) await checkLayout(table, names);
  const { count, columns, nulls, deleted, firstSeq } = deserialize(await readFile(path.join(dir, file)));
  const appender = direct ? await conn.createAppender(table) : await conn.createAppender(table, 'main', 'temp');
  const appends = types.map((t) => APPEND[t]);
  try {
    for (let r = 0; r < count; r++) {
      for (let i = 0; i < appends.length; i++) {
        const mask = nulls[i];
        if (mask !== null && mask[r] === 1) appender.appendNull();
        else appends[i](appender, columns[i][r]);
      }
      if (!direct) {
        appender.appendBoolean(deleted[r] === 1);
        appender.appendBigInt(BigInt(firstSeq + r));
      }
      appender.endRow();
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
  return count;
}

async function commit({ guardSql, steps }) {
  await conn.run('BEGIN TRANSACTION');
  try {
    if (Number((await conn.runAndReadAll(guardSql)).getRows()[0][0]) > 0) {
      await conn.run('ROLLBACK');
      return { skipped: true, rows: 0 };
    }
    let rows = 0;
    for (const step of steps) {
      if (step.sql) await conn.run(step.sql);
      else rows += await append(step.append);
    }
    await conn.run('COMMIT');
    return { skipped: false, rows };
  } catch (e) {
    await conn.run('ROLLBACK').catch(() => {});
    throw e;
  }
}

async function publish({ target }) {
  await conn.run('CHECKPOINT');
  const tmp = `${target}.${process.pid}.tmp`;
  await copyFile(dbPath, tmp);
  const f = await open(tmp, 'r+');
  try {
    await f.sync();
  } finally {
    await f.close();
  }
  await rename(tmp, target);
}

async function handle(msg) {
  if (!conn) await connect();
  switch (msg.op) {
    case 'commit':
      return commit(msg);
    case 'run':
      await conn.run(msg.sql);
      return null;
    case 'query':
      return (await conn.runAndReadAll(msg.sql)).getRowsJson();
    case 'publish':
      return publish(msg);
    case 'release':
      conn.closeSync();
      instance.closeSync();
      conn = undefined;
      return null;
    case 'close':
      conn.closeSync();
      instance.closeSync();
      conn = undefined;
      setImmediate(() => process.exit(0));
      return null;
    default:
      throw new Error(`unknown request ${msg.op}`);
  }
}

let queue = Promise.resolve();
process.on('message', (msg) => {
  queue = queue.then(async () => {
    try {
      process.send({ id: msg.id, ok: true, result: await handle(msg) });
    } catch (e) {
      process.send({ id: msg.id, ok: false, message: e instanceof Error ? e.message : String(e) });
    }
  });
});
