import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { checkpointConfig } from '../../runtime/checkpoint/config.ts';
import { JobManager } from '../../runtime/cluster/job-manager.ts';
import { commonJsScopeHint } from '../../runtime/graph/job-definition.ts';
import { weirHome } from '../../runtime/weir-home.ts';

let dir: string;
const saved = { WEIR_HOME: process.env.WEIR_HOME, HOME: process.env.HOME };
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'weir-home-'));
});
afterEach(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

describe('where Weir writes by default', () => {
  it('is $WEIR_HOME, else ~/.weir, never the current directory', () => {
    process.env.WEIR_HOME = path.join(dir, 'home');
    expect(weirHome()).toBe(path.join(dir, 'home'));
    delete process.env.WEIR_HOME;
    process.env.HOME = path.join(dir, 'user');
    expect(weirHome()).toBe(path.join(dir, 'user', '.weir'));
    expect(weirHome().startsWith(process.cwd() + path.sep)).toBe(false);
  });

  it('puts working files and checkpoints there and says so once', () => {
    process.env.WEIR_HOME = dir;
    const lines: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    expect(checkpointConfig().storage).toEqual({ kind: 'local', dir: path.join(dir, 'checkpoints') });
    const jm = new JobManager({ workers: 0, checkpoints: { intervalMs: 100 } });
    new JobManager({ workers: 0, checkpoints: { intervalMs: 100 } });
    expect(jm.options.workDir).toBe(path.join(dir, 'work'));
    expect(lines).toEqual([
      `weir: task managers' working files in ${path.join(dir, 'work')} (default; set ClusterOptions.workDir or WEIR_HOME to choose)\n`,
      `weir: checkpoints in ${path.join(dir, 'checkpoints')} (default; set checkpoints.storage or WEIR_HOME to choose)\n`,
    ]);
  });

  it('says nothing about locations the user chose', () => {
    const lines: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    new JobManager({ workers: 0, workDir: path.join(dir, 'mine'), checkpoints: { intervalMs: 100, storage: { kind: 'local', dir } } });
    expect(lines).toEqual([]);
  });
});

describe('a job module outside an ES-module package', () => {
  const job = (folder: string) => {
    const file = path.join(folder, 'job.ts');
    writeFileSync(file, 'export default 1;\n');
    return pathToFileURL(file).href;
  };

  it('is explained: no package.json says "type": "module"', () => {
    // The temp dir has no package.json above it (os.tmpdir() is outside any project).
    expect(commonJsScopeHint(job(dir))).toBe(
      `no package.json above ${dir} says "type": "module", so Node loads job.ts as CommonJS; Weir jobs are ES modules: put a package.json with {"type": "module"} in the job's folder, or name the file .mts`,
    );
  });

  it('names the package.json that lacks "type": "module", and is quiet when it has it', () => {
    writeFileSync(path.join(dir, 'package.json'), '{"name": "jobs"}');
    expect(commonJsScopeHint(job(dir))).toMatch(new RegExp(`^${path.join(dir, 'package.json').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} does not say "type": "module"`));
    writeFileSync(path.join(dir, 'package.json'), '{"name": "jobs", "type": "module"}');
    expect(commonJsScopeHint(job(dir))).toBeUndefined();
    expect(commonJsScopeHint(pathToFileURL(path.join(dir, 'job.mts')).href)).toBeUndefined();
  });
});
