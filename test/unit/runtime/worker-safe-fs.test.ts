import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as wfs from '../../../runtime/worker-safe-fs.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'weir-wfs-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('worker-safe file calls (callback API as promises)', () => {
  it('write, read, read a range, and append through a descriptor', async () => {
    const p = path.join(dir, 'a', 'b', 'f.bin');
    await wfs.mkdir(path.dirname(p), { recursive: true });
    await wfs.writeFile(p, new Uint8Array([1, 2, 3, 4, 5]));
    expect([...(await wfs.readFile(p))]).toEqual([1, 2, 3, 4, 5]);

    const fd = await wfs.open(p, 'r');
    try {
      const into = new Uint8Array(8);
      expect(await wfs.readAt(fd, into, 3, 1)).toBe(3);
      expect([...into.subarray(0, 3)]).toEqual([2, 3, 4]);
      expect(await wfs.readAt(fd, into, 8, 3)).toBe(2); // past the end: a short read, not an error
    } finally {
      await wfs.close(fd);
    }

    const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => i % 251);
    const out = path.join(dir, 'big.bin');
    const wfd = await wfs.open(out, 'w');
    try {
      await wfs.writeAll(wfd, big.subarray(0, 1000));
      await wfs.writeAll(wfd, big.subarray(1000));
      await wfs.writeFile(wfd, 'tail');
      await wfs.fsync(wfd);
    } finally {
      await wfs.close(wfd);
    }
    const back = readFileSync(out);
    expect(back.length).toBe(big.length + 4);
    expect(Buffer.compare(back.subarray(0, big.length), Buffer.from(big))).toBe(0);
    expect(back.subarray(big.length).toString()).toBe('tail');
  });

  it('exclusive creates and links fail with EEXIST; missing files with ENOENT', async () => {
    const p = path.join(dir, 'lock');
    const fd = await wfs.open(p, 'wx');
    await wfs.writeFile(fd, 'held');
    await wfs.close(fd);
    await expect(wfs.open(p, 'wx')).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await wfs.readTextFile(p)).toBe('held');

    const tmp = path.join(dir, 'tmp');
    writeFileSync(tmp, 'x');
    await expect(wfs.link(tmp, p)).rejects.toMatchObject({ code: 'EEXIST' });
    await wfs.link(tmp, path.join(dir, 'linked'));
    await wfs.unlink(tmp);
    expect(readFileSync(path.join(dir, 'linked'), 'utf8')).toBe('x');

    await expect(wfs.readFile(path.join(dir, 'nope'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(wfs.stat(path.join(dir, 'nope'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('lists, renames, copies trees and removes them', async () => {
    await wfs.mkdir(path.join(dir, 't', 'sub'), { recursive: true });
    writeFileSync(path.join(dir, 't', 'one'), '1');
    writeFileSync(path.join(dir, 't', 'sub', 'two'), '22');
    expect((await wfs.readdir(path.join(dir, 't'))).sort()).toEqual(['one', 'sub']);
    const kinds = (await wfs.readdirEntries(path.join(dir, 't'))).map((d) => `${d.name}:${d.isDirectory() ? 'dir' : 'file'}`).sort();
    expect(kinds).toEqual(['one:file', 'sub:dir']);
    expect((await wfs.stat(path.join(dir, 't', 'sub', 'two'))).size).toBe(2);

    await wfs.cp(path.join(dir, 't'), path.join(dir, 'copy'), { recursive: true });
    expect(readFileSync(path.join(dir, 'copy', 'sub', 'two'), 'utf8')).toBe('22');
    await wfs.rename(path.join(dir, 'copy', 'one'), path.join(dir, 'copy', 'uno'));
    expect((await wfs.readdir(path.join(dir, 'copy'))).sort()).toEqual(['sub', 'uno']);

    await wfs.rm(path.join(dir, 'copy'), { recursive: true, force: true });
    await wfs.rm(path.join(dir, 'copy'), { recursive: true, force: true }); // force: gone already is fine
    expect(existsSync(path.join(dir, 'copy'))).toBe(false);
    await expect(wfs.rm(path.join(dir, 'copy'), {})).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
