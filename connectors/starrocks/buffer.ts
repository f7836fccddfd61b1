/**
 * The rows a writer holds before it sends them: encoded records, counted by rows and bytes. When
 * either limit is reached the writer sends a load and awaits it inside `write`, so a slow StarRocks
 * slows the task (back-pressure) and memory stays bounded by the limits.
 */
import { RowEncoder, columnsOf } from './encode.ts';
import type { ResolvedOptions } from './options.ts';

export class LoadBuffer {
  private encoded: string[] = [];
  private byteCount = 0;
  private encoder: RowEncoder | undefined;
  /** When the oldest buffered record arrived (at-least-once flush interval). */
  firstAt = 0;

  constructor(private readonly options: ResolvedOptions) {
    if (options.columns) this.encoder = this.makeEncoder(options.columns);
  }

  private makeEncoder(columns: readonly string[]): RowEncoder {
    const o = this.options;
    return new RowEncoder({ format: o.format, columns, primaryKeyTable: o.primaryKeyTable, partialUpdate: o.partialUpdate, ignoreUpdateBefore: o.ignoreUpdateBefore });
  }

  /** The load headers (format, columns, ...); known once the first record fixed the columns. */
  get headers(): Record<string, string> {
    return this.encoder?.headers ?? {};
  }

  add(records: readonly unknown[]): void {
    for (const r of records) {
      this.encoder ??= this.makeEncoder(columnsOf(r));
      const e = this.encoder.encode(r);
      if (e === undefined) continue;
      if (this.encoded.length === 0) this.firstAt = Date.now();
      this.encoded.push(e);
      this.byteCount += e.length + 1;
    }
  }

  get rows(): number {
    return this.encoded.length;
  }

  get bytes(): number {
    return this.byteCount;
  }

  /** How many more records fit before the row limit (at least 1). */
  room(): number {
    return Math.max(1, this.options.bufferRows - this.encoded.length);
  }

  full(): boolean {
    return this.encoded.length >= this.options.bufferRows || this.byteCount >= this.options.bufferBytes;
  }

  /** The body of one load with everything buffered, and empties the buffer. */
  take(): { body: string; rows: number } {
    const body = this.encoder!.body(this.encoded);
    const rows = this.encoded.length;
    this.encoded = [];
    this.byteCount = 0;
    return { body, rows };
  }
}
