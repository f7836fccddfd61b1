/**
 * The pipeline job builds one source and one sink per sink table for every sink type (the sinks'
 * own option checks run; nothing connects), and `weir pipeline check` reports a file's errors with
 * their line and key and exit code 1.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import job from '../../../connectors/pipeline/job.ts';
import type { SourceTables } from '../../../connectors/pipeline/index.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'weir-pipeline-graph-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const col = (name: string, type: string, nullable = true) => ({ name, type, nullable });
const tables: SourceTables = {
  'app.orders': { table: 'app.orders', columns: [col('id', 'int(11)', false), col('amount', 'decimal(8,2)')], primaryKeys: ['id'] },
  'app.users': { table: 'app.users', columns: [col('id', 'bigint(20)', false), col('name', 'varchar(20)')], primaryKeys: ['id'] },
};

const SINKS: Record<string, string> = {
  paimon: 'type: paimon\n  catalog.properties.warehouse: ./warehouse',
  duckdb: 'type: duckdb\n  path: ./app.duckdb',
  clickhouse: 'type: clickhouse\n  url: http://127.0.0.1:8123\n  username: default\n  password: pw',
  starrocks: 'type: starrocks\n  jdbc-url: jdbc:mysql://127.0.0.1:9030\n  load-url: 127.0.0.1:8030;127.0.0.1:8031\n  username: root\n  password: ""',
};

function file(name: string, sink: string): string {
  const f = path.join(root, `${name}.yaml`);
  writeFileSync(f, `source:\n  type: mysql\n  hostname: db\n  username: u\n  password: s3cret-pw-42\n  tables: app.\\.*\nsink:\n  ${sink}\nroute:\n  - source-table: app.\\.*\n    sink-table: ods.ods_<>\n    replace-symbol: <>\ntransform:\n  - source-table: app.users\n    projection: \\*, UPPER(name) AS name_upper\n    filter: id > 0\n`);
  return f;
}

describe('the pipeline job graph', () => {
  for (const [type, sink] of Object.entries(SINKS)) {
    it(`${type}: the CDC source, the transform and one sink per sink table`, () => {
      const graph = job.buildGraph({ file: file(type, sink), tables }, { parallelism: 2, maxParallelism: 128 });
      const names = graph.nodes.map((n) => n.name);
      expect(names.filter((n) => n.startsWith('mysql '))).toEqual(['mysql app.\\.*']);
      expect(names).toContain('transform');
      const sinks = graph.nodes.filter((n) => n.kind === 'sink').map((n) => n.name);
      expect(sinks.length).toBeGreaterThanOrEqual(2);
      for (const t of ['ods.ods_orders', 'ods.ods_users']) expect(names.some((n) => n.includes(t))).toBe(true);
    });
  }
});

describe('weir pipeline check', () => {
  const bin = fileURLToPath(new URL('../../../runtime/cli/bin.mjs', import.meta.url));
  it('names the line and key of an error, exits 1, and keeps the password out', () => {
    const f = file('bad', 'type: starrrocks');
    const r = spawnSync(process.execPath, [bin, 'pipeline', 'check', f], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${f}:8 sink.type: unknown sink type 'starrrocks'; expected one of paimon, lake, starrocks, clickhouse, duckdb`);
    expect(r.stderr + r.stdout).not.toContain("s3cret-pw-42");
  });
  it('accepts a good file', () => {
    const f = file('good', SINKS.duckdb!);
    const r = spawnSync(process.execPath, [bin, 'pipeline', 'check', f], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('ok');
    expect(r.status).toBe(0);
  });
});
