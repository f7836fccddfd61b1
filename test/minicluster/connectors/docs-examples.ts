/**
 * The examples of docs/connectors.md, verbatim (a test checks that the doc's code blocks are in this
 * file): a source reading the lines of the files in a directory, and an exactly-once sink writing
 * part files. Used by docs-examples.test.ts in a running job.
 */
import { readdir, readFile, rename, writeFile, access } from 'node:fs/promises';
import path from 'node:path';
import { defineJob, OwnedSplitEnumerator } from '../../../runtime/api/index.ts';
import type { Committer, OwnedSplitsState, PollStatus, ReaderOutput, Sink, SinkWriter, SinkWriterContext, Source, SourceReader, SourceSplit } from '../../../runtime/api/index.ts';

// example: source
/** A split is one file; its position is the number of lines already emitted. */
interface FileSplit extends SourceSplit {
  file: string;
  index: number;
  line: number;
}

/** The lines of every file in `dir` (bounded: the files there when the job starts). */
export function linesSource(dir: string): Source<string, FileSplit, OwnedSplitsState<FileSplit>> {
  return {
    name: `lines(${dir})`,
    bounded: true,
    // On the job manager: list the directory once, file i goes to reader i % parallelism.
    createEnumerator: (ctx) => {
      const enumerator = new OwnedSplitEnumerator<FileSplit>(ctx, (s, p) => s.index % p, { pending: [], discoveryFinished: false });
      ctx.callAsync(
        async () => (await readdir(dir)).sort(),
        (files) => {
          enumerator.addSplits(files.map((file, index) => ({ id: file, file: path.join(dir, file), index, line: 0 })));
          enumerator.finishDiscovery();
        },
      );
      return enumerator;
    },
    restoreEnumerator: (ctx, state) => new OwnedSplitEnumerator<FileSplit>(ctx, (s, p) => s.index % p, state),
    createReader: () => new LinesReader(),
  };
}

class LinesReader implements SourceReader<string, FileSplit> {
  private readonly splits: FileSplit[] = [];
  private lines: string[] | undefined; // the first split's lines, once read
  private reading: Promise<void> | undefined;
  private noMoreSplits = false;

  addSplits(splits: readonly FileSplit[]): void {
    this.splits.push(...splits.map((s) => ({ ...s })));
  }

  notifyNoMoreSplits(): void {
    this.noMoreSplits = true;
  }

  poll(output: ReaderOutput<string>, max: number): PollStatus {
    const split = this.splits[0];
    if (!split) return this.noMoreSplits ? 'end' : 'wait';
    if (!this.lines) {
      // I/O in the background: poll never waits for it.
      this.reading ??= readFile(split.file, 'utf8').then((text) => {
        this.lines = text.split('\n').filter((l) => l.length > 0);
        this.reading = undefined;
      });
      return 'wait';
    }
    const out = output.forSplit(split.id);
    const end = Math.min(this.lines.length, split.line + max);
    for (; split.line < end; split.line++) out.collect(this.lines[split.line]!);
    if (split.line === this.lines.length) {
      output.releaseSplit(split.id); // finished: its watermark no longer counts
      this.splits.shift();
      this.lines = undefined;
    }
    return 'more';
  }

  available(): Promise<void> {
    // New splits arrive as mail, which wakes the task anyway.
    return this.reading ?? new Promise(() => {});
  }

  snapshotState(): FileSplit[] {
    return this.splits.map((s) => ({ ...s }));
  }
}
// end example

// example: sink
/**
 * Exactly-once part files: the writer buffers lines and at each barrier writes them to a hidden
 * file (the committable is its name); the committer renames it into view. A rename of a file that
 * is already in view is skipped, so a repeated commit after a restore is harmless.
 */
export function partFileSink(dir: string): Sink<string, string> {
  return {
    name: 'part-files',
    createWriter: (ctx) => new PartFileWriter(dir, ctx),
    createCommitter: () => new PartFileCommitter(dir),
  };
}

class PartFileWriter implements SinkWriter<string, string> {
  private buffer: string[] = [];

  constructor(
    private readonly dir: string,
    private readonly ctx: SinkWriterContext,
  ) {}

  write(values: readonly string[]): void {
    this.buffer.push(...values);
  }

  async prepareCommit(checkpointId: number, endOfInput: boolean): Promise<string[]> {
    if (this.buffer.length === 0) return [];
    const name = `part-${this.ctx.subtaskIndex}-${endOfInput ? 'end' : checkpointId}`;
    await writeFile(path.join(this.dir, `.${name}`), this.buffer.join('\n') + '\n');
    this.buffer = [];
    return [name];
  }
}

class PartFileCommitter implements Committer<string> {
  constructor(private readonly dir: string) {}

  async commit(names: readonly string[]): Promise<void> {
    for (const name of names) {
      const visible = path.join(this.dir, name);
      if (await access(visible).then(() => true, () => false)) continue; // committed before a restore
      await rename(path.join(this.dir, `.${name}`), visible);
    }
  }
}
// end example

export default defineJob(import.meta.url, (env, params: { input: string; output: string }) => {
  env.fromSource(linesSource(params.input), { uid: 'lines' }).map((line) => line.toUpperCase()).sinkTo(partFileSink(params.output), { uid: 'parts' });
});
