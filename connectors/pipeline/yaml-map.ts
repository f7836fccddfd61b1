/**
 * A YAML mapping read key by key, remembering where each key is, so that every error of a pipeline
 * file names its line and key (`pipeline.yaml:7 sink.type: unknown sink type ...`). Values are
 * read as Flink CDC reads them: scalars as text (`port: 3306` and `port: "3306"` are the same).
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode, type Pair, type YAMLMap } from 'yaml';
import { WeirError } from '../../runtime/errors.ts';

/** An error in a pipeline file: `file:line key: message`. Never carries a secret value. */
export class PipelineDefinitionError extends WeirError {
  constructor(readonly file: string, readonly line: number, readonly key: string, readonly reason: string) {
    super(`${file}:${line} ${key}: ${reason}`, { domain: 'user' });
  }
}

export interface Located {
  file: string;
  lines: LineCounter;
}

/** A mapping of a pipeline file: typed getters that fail naming the line and the dotted key. */
export class YamlMap {
  private readonly used = new Set<string>();
  readonly entries: Map<string, Pair<YamlNode, YamlNode | null>>;

  constructor(private readonly at: Located, readonly path: string, private readonly node: YAMLMap<YamlNode, YamlNode | null>, readonly line: number) {
    this.entries = new Map();
    for (const p of node.items) {
      const k = isScalar(p.key) ? String(p.key.value) : String(p.key);
      if (this.entries.has(k)) this.fail(k, 'appears twice in this block');
      this.entries.set(k, p);
    }
  }

  keyPath(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }

  lineOf(key: string): number {
    const p = this.entries.get(key);
    const range = (p?.key as YamlNode | undefined)?.range ?? this.node.range;
    return range ? this.at.lines.linePos(range[0]).line : this.line;
  }

  fail(key: string, why: string): never {
    throw new PipelineDefinitionError(this.at.file, this.lineOf(key), this.keyPath(key), why);
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  /** The key's value as text; undefined when absent (or null). */
  string(key: string): string | undefined {
    this.used.add(key);
    const v = this.entries.get(key)?.value;
    if (v === undefined || v === null) return undefined;
    if (!isScalar(v)) this.fail(key, `must be a single value, not a ${isSeq(v) ? 'list' : 'block'}`);
    return v.value === null ? undefined : String(v.value);
  }

  required(key: string, what: string): string {
    const v = this.string(key);
    if (v === undefined || v === '') {
      if (!this.has(key)) throw new PipelineDefinitionError(this.at.file, this.line, this.keyPath(key), `is missing: ${what}`);
      this.fail(key, `is empty: ${what}`);
    }
    return v;
  }

  int(key: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
    const v = this.string(key);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) this.fail(key, `must be a whole number from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ''}, got '${v}'`);
    return n;
  }

  oneOf<T extends string>(key: string, values: readonly T[]): T | undefined {
    const v = this.string(key);
    if (v === undefined) return undefined;
    const lower = v.toLowerCase() as T;
    if (!values.includes(lower)) this.fail(key, `'${v}' is not one of ${values.join(', ')}`);
    return lower;
  }

  /** A nested block (`pipeline:` inside the file, ...); undefined when absent. */
  map(key: string): YamlMap | undefined {
    this.used.add(key);
    const v = this.entries.get(key)?.value;
    if (v === undefined || v === null) return undefined;
    if (!isMap(v)) this.fail(key, 'must be a block of key: value lines');
    return new YamlMap(this.at, this.keyPath(key), v as YAMLMap<YamlNode, YamlNode | null>, this.lineOf(key));
  }

  /** A list of blocks (`route:`, `transform:`); a single block counts as a list of one. */
  list(key: string): YamlMap[] {
    this.used.add(key);
    const v = this.entries.get(key)?.value;
    if (v === undefined || v === null) return [];
    if (isMap(v)) return [new YamlMap(this.at, this.keyPath(key), v as YAMLMap<YamlNode, YamlNode | null>, this.lineOf(key))];
    if (!isSeq(v)) this.fail(key, 'must be a list of blocks (lines starting with -)');
    return v.items.map((item, i) => {
      const n = item as YamlNode;
      const line = n.range ? this.at.lines.linePos(n.range[0]).line : this.lineOf(key);
      if (!isMap(n)) throw new PipelineDefinitionError(this.at.file, line, `${this.keyPath(key)}[${i}]`, 'must be a block of key: value lines');
      return new YamlMap(this.at, `${this.keyPath(key)}[${i}]`, n as YAMLMap<YamlNode, YamlNode | null>, line);
    });
  }

  /** Keys starting with `prefix`, without it (Flink CDC's `table.properties.bucket: 4` style). */
  prefixed(prefix: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const k of this.entries.keys()) {
      if (!k.startsWith(prefix)) continue;
      const v = this.string(k);
      if (v !== undefined) out[k.slice(prefix.length)] = v;
    }
    return out;
  }

  /** Marks keys as read (options that are accepted and have no effect here). */
  accept(keys: readonly string[]): string[] {
    const got = keys.filter((k) => this.entries.has(k));
    for (const k of got) this.used.add(k);
    return got;
  }

  /** Fails on the first key nothing read, listing the keys this block knows. */
  rejectUnknown(known: readonly string[]): void {
    for (const k of this.entries.keys()) {
      if (!this.used.has(k)) this.fail(k, `unknown key; known keys here: ${known.join(', ')}`);
    }
  }
}

/** Parses a pipeline file's text into its top-level mapping; YAML syntax errors name their line. */
export function parsePipelineYaml(file: string, text: string): YamlMap {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false });
  const first = doc.errors[0];
  if (first) {
    const line = first.linePos?.[0]?.line ?? 1;
    throw new PipelineDefinitionError(file, line, '(yaml)', first.message.split('\n')[0]!);
  }
  if (!isMap(doc.contents)) throw new PipelineDefinitionError(file, 1, '(file)', 'a pipeline file is a block with source:, sink: and optionally route:, transform:, pipeline:');
  return new YamlMap({ file, lines }, '', doc.contents as YAMLMap<YamlNode, YamlNode | null>, 1);
}
