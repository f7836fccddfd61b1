/**
 * The expression subset of pipeline transforms (Flink CDC's `projection` and `filter`), parsed,
 * typed against a table's columns, and compiled to a function of a row.
 *
 *   expression  := or
 *   or          := and (OR and)*
 *   and         := not (AND not)*
 *   not         := NOT not | comparison
 *   comparison  := additive ((= | <> | != | < | <= | > | >=) additive | IS [NOT] NULL)?
 *   additive    := multiplicative ((+ | - | ||) multiplicative)*
 *   multiplicative := unary ((* | / | %) unary)*
 *   unary       := - unary | primary
 *   primary     := number | 'string' | TRUE | FALSE | NULL | column | `column`
 *                | function(args) | CAST(expression AS type) | (expression)
 *   functions   := UPPER LOWER TRIM CONCAT CHAR_LENGTH ABS COALESCE
 *   cast types  := INT INTEGER BIGINT DOUBLE FLOAT STRING VARCHAR[(n)] CHAR[(n)] BOOLEAN
 *   projection  := item (, item)*;  item := * | expression [[AS] alias]
 *
 * Anything else (CASE, IN, LIKE, BETWEEN, other functions, window clauses, subqueries) fails with
 * an `ExpressionError` that names the unsupported part and where it starts, so the caller can say
 * which line and key of the pipeline file it came from.
 *
 * Semantics are SQL's, as Flink's: NULL propagates through arithmetic, comparisons and CONCAT;
 * AND/OR are three-valued; a filter keeps a row only when it is TRUE. Integer arithmetic is exact
 * (BIGINT, a JS bigint); `/` and anything with a DOUBLE or DECIMAL operand is DOUBLE.
 */
import { WeirError } from '../../runtime/errors.ts';
import type { CdcColumn, CdcValue } from '../mysql/cdc/types.ts';

/** An expression that is not in the subset or does not type-check; `at` is the offset in the text. */
export class ExpressionError extends WeirError {
  constructor(readonly reason: string, readonly at: number) {
    super(reason, { domain: 'user' });
  }
}

/** The static types of the subset. */
export type ExprType = 'int' | 'bigint' | 'double' | 'decimal' | 'string' | 'boolean' | 'bytes' | 'null';

type Node =
  | { k: 'lit'; v: CdcValue; t: ExprType; at: number }
  | { k: 'col'; name: string; at: number }
  | { k: 'un'; op: '-' | 'NOT'; e: Node; at: number }
  | { k: 'bin'; op: string; l: Node; r: Node; at: number }
  | { k: 'isnull'; not: boolean; e: Node; at: number }
  | { k: 'call'; fn: string; args: Node[]; at: number }
  | { k: 'cast'; e: Node; to: ExprType; at: number };

interface Token {
  t: 'num' | 'str' | 'id' | 'qid' | 'op' | 'end';
  v: string;
  at: number;
}

const OPS = ['<>', '!=', '<=', '>=', '||', '=', '<', '>', '+', '-', '*', '/', '%', '(', ')', ','];

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) { i++; continue; }
    const at = i;
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/.exec(src.slice(i))!;
      out.push({ t: 'num', v: m[0], at });
      i += m[0].length;
      continue;
    }
    if (c === "'") {
      let s = '';
      i++;
      for (;;) {
        if (i >= src.length) throw new ExpressionError(`the string starting at ${at + 1} is not closed with '`, at);
        if (src[i] === "'" && src[i + 1] === "'") { s += "'"; i += 2; continue; }
        if (src[i] === "'") { i++; break; }
        s += src[i++];
      }
      out.push({ t: 'str', v: s, at });
      continue;
    }
    if (c === '`') {
      const end = src.indexOf('`', i + 1);
      if (end < 0) throw new ExpressionError('a `quoted` column name is not closed', at);
      out.push({ t: 'qid', v: src.slice(i + 1, end), at });
      i = end + 1;
      continue;
    }
    if (/[A-Za-z_$]/.test(c)) {
      const m = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(src.slice(i))!;
      out.push({ t: 'id', v: m[0], at });
      i += m[0].length;
      continue;
    }
    if (c === '\\' && src[i + 1] === '*') {
      // Flink CDC files write `\*` so YAML does not read `*` as an alias
      out.push({ t: 'op', v: '*', at });
      i += 2;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) throw new ExpressionError(`'${c}' is not supported`, at);
    out.push({ t: 'op', v: op, at });
    i += op.length;
  }
  out.push({ t: 'end', v: '', at: src.length });
  return out;
}

const FUNCTIONS = new Set(['UPPER', 'LOWER', 'TRIM', 'CONCAT', 'CHAR_LENGTH', 'ABS', 'COALESCE']);
const CAST_TYPES: Record<string, ExprType> = { INT: 'bigint', INTEGER: 'bigint', BIGINT: 'bigint', DOUBLE: 'double', FLOAT: 'double', STRING: 'string', VARCHAR: 'string', CHAR: 'string', BOOLEAN: 'boolean' };
/** Words that start something outside the subset: named in the error so the user knows what to rewrite. */
const UNSUPPORTED_WORDS = new Set(['CASE', 'WHEN', 'IN', 'LIKE', 'BETWEEN', 'SELECT', 'EXISTS', 'OVER', 'INTERVAL', 'IF', 'ROW', 'ARRAY', 'MAP']);

class Parser {
  private p = 0;
  constructor(private readonly toks: Token[]) {}

  private peek(): Token { return this.toks[this.p]!; }
  private next(): Token { return this.toks[this.p++]!; }
  private word(w: string): boolean {
    const t = this.peek();
    if (t.t === 'id' && t.v.toUpperCase() === w) { this.p++; return true; }
    return false;
  }
  private op(o: string): boolean {
    const t = this.peek();
    if (t.t === 'op' && t.v === o) { this.p++; return true; }
    return false;
  }
  private expectOp(o: string): void {
    if (!this.op(o)) this.unexpected(`'${o}'`);
  }
  unexpected(wanted: string): never {
    const t = this.peek();
    if (t.t === 'end') throw new ExpressionError(`the expression ends where ${wanted} was expected`, t.at);
    if (t.t === 'id' && UNSUPPORTED_WORDS.has(t.v.toUpperCase())) throw new ExpressionError(`'${t.v.toUpperCase()}' is not supported (supported: column references, literals, + - * / %, ||, comparisons, IS [NOT] NULL, AND/OR/NOT, ${[...FUNCTIONS].join(', ')}, CAST)`, t.at);
    throw new ExpressionError(`unexpected '${t.v}' where ${wanted} was expected`, t.at);
  }
  atEnd(): boolean { return this.peek().t === 'end'; }
  atComma(): boolean { return this.peek().t === 'op' && this.peek().v === ','; }
  skipComma(): void { this.expectOp(','); }
  atStar(): boolean {
    const t = this.peek();
    const n = this.toks[this.p + 1]!;
    return t.t === 'op' && t.v === '*' && (n.t === 'end' || (n.t === 'op' && n.v === ','));
  }
  star(): number { return this.next().at; }

  expression(): Node { return this.or(); }
  private or(): Node {
    let l = this.and();
    for (let at = this.peek().at; this.word('OR'); at = this.peek().at) l = { k: 'bin', op: 'OR', l, r: this.and(), at };
    return l;
  }
  private and(): Node {
    let l = this.not();
    for (let at = this.peek().at; this.word('AND'); at = this.peek().at) l = { k: 'bin', op: 'AND', l, r: this.not(), at };
    return l;
  }
  private not(): Node {
    const at = this.peek().at;
    if (this.word('NOT')) return { k: 'un', op: 'NOT', e: this.not(), at };
    return this.comparison();
  }
  private comparison(): Node {
    const l = this.additive();
    const t = this.peek();
    if (t.t === 'op' && ['=', '<>', '!=', '<', '<=', '>', '>='].includes(t.v)) {
      this.p++;
      return { k: 'bin', op: t.v === '!=' ? '<>' : t.v, l, r: this.additive(), at: t.at };
    }
    if (this.word('IS')) {
      const not = this.word('NOT');
      if (!this.word('NULL')) this.unexpected('NULL after IS');
      return { k: 'isnull', not, e: l, at: t.at };
    }
    return l;
  }
  private additive(): Node {
    let l = this.multiplicative();
    for (;;) {
      const t = this.peek();
      if (t.t === 'op' && (t.v === '+' || t.v === '-' || t.v === '||')) {
        this.p++;
        l = { k: 'bin', op: t.v, l, r: this.multiplicative(), at: t.at };
      } else return l;
    }
  }
  private multiplicative(): Node {
    let l = this.unary();
    for (;;) {
      const t = this.peek();
      if (t.t === 'op' && (t.v === '*' || t.v === '/' || t.v === '%')) {
        this.p++;
        l = { k: 'bin', op: t.v, l, r: this.unary(), at: t.at };
      } else return l;
    }
  }
  private unary(): Node {
    const at = this.peek().at;
    if (this.op('-')) return { k: 'un', op: '-', e: this.unary(), at };
    return this.primary();
  }
  private primary(): Node {
    const t = this.peek();
    if (t.t === 'num') {
      this.p++;
      if (/^[0-9]+$/.test(t.v)) {
        const n = BigInt(t.v);
        return n <= 2147483647n ? { k: 'lit', v: Number(t.v), t: 'int', at: t.at } : { k: 'lit', v: n, t: 'bigint', at: t.at };
      }
      return { k: 'lit', v: Number(t.v), t: 'double', at: t.at };
    }
    if (t.t === 'str') { this.p++; return { k: 'lit', v: t.v, t: 'string', at: t.at }; }
    if (t.t === 'qid') { this.p++; return { k: 'col', name: t.v, at: t.at }; }
    if (t.t === 'op' && t.v === '(') {
      this.p++;
      const e = this.expression();
      this.expectOp(')');
      return e;
    }
    if (t.t === 'id') {
      const w = t.v.toUpperCase();
      if (w === 'TRUE' || w === 'FALSE') { this.p++; return { k: 'lit', v: w === 'TRUE', t: 'boolean', at: t.at }; }
      if (w === 'NULL') { this.p++; return { k: 'lit', v: null, t: 'null', at: t.at }; }
      if (UNSUPPORTED_WORDS.has(w)) this.unexpected('a value');
      const n = this.toks[this.p + 1]!;
      if (n.t === 'op' && n.v === '(') {
        this.p += 2;
        if (w === 'CAST') {
          const e = this.expression();
          if (!this.word('AS')) this.unexpected('AS in CAST(... AS type)');
          const ty = this.next();
          const to = ty.t === 'id' ? CAST_TYPES[ty.v.toUpperCase()] : undefined;
          if (!to) throw new ExpressionError(`CAST to '${ty.v}' is not supported; use one of ${Object.keys(CAST_TYPES).join(', ')}`, ty.at);
          if (this.op('(')) { // VARCHAR(n), CHAR(n): the length is not enforced
            if (this.next().t !== 'num') this.unexpected('a length');
            this.expectOp(')');
          }
          this.expectOp(')');
          return { k: 'cast', e, to, at: t.at };
        }
        if (!FUNCTIONS.has(w)) throw new ExpressionError(`function '${t.v}' is not supported; supported: ${[...FUNCTIONS].join(', ')}, CAST`, t.at);
        const args: Node[] = [];
        if (!this.op(')')) {
          do args.push(this.expression());
          while (this.op(','));
          this.expectOp(')');
        }
        return { k: 'call', fn: w, args, at: t.at };
      }
      this.p++;
      return { k: 'col', name: t.v, at: t.at };
    }
    return this.unexpected('a value');
  }

  /** An optional alias after a projection item: `AS name`, or a bare name. */
  alias(): string | undefined {
    if (this.word('AS')) {
      const t = this.next();
      if (t.t !== 'id' && t.t !== 'qid') { this.p--; this.unexpected('a name after AS'); }
      return t.v;
    }
    const t = this.peek();
    if (t.t === 'id' || t.t === 'qid') { this.p++; return t.v; }
    return undefined;
  }
}

// ---------- typing and compiling ----------

/** What evaluation needs of a column: its name and its value type. */
export function exprTypeOfColumn(column: CdcColumn): ExprType {
  const t = column.type.toLowerCase();
  const base = /^[a-z]+/.exec(t)?.[0] ?? t;
  switch (base) {
    case 'tinyint': case 'smallint': case 'mediumint': case 'int': case 'integer': case 'year': return 'int';
    case 'bigint': return 'bigint';
    case 'float': case 'double': case 'real': return 'double';
    case 'decimal': case 'numeric': return 'decimal';
    case 'bit': return /\(\s*1\s*\)/.test(t) || !t.includes('(') ? 'boolean' : 'bytes';
    case 'binary': case 'varbinary': case 'tinyblob': case 'blob': case 'mediumblob': case 'longblob': return 'bytes';
    default: return 'string';
  }
}

/** The MySQL type a computed value is declared with downstream (sinks map it on as they map source columns). */
export function columnTypeOf(t: ExprType): string {
  switch (t) {
    case 'int': return 'int';
    case 'bigint': return 'bigint';
    case 'double': case 'decimal': return 'double';
    case 'boolean': return 'bit(1)';
    case 'bytes': return 'varbinary(65535)';
    default: return 'varchar(65535)';
  }
}

export type Evaluator = (row: Record<string, CdcValue>) => CdcValue;

interface Compiled {
  t: ExprType;
  f: Evaluator;
  /** The column it is, when it is a bare column reference (keeps the source column's exact type). */
  column?: CdcColumn;
}

const numeric = (t: ExprType): boolean => t === 'int' || t === 'bigint' || t === 'double' || t === 'decimal';
const integral = (t: ExprType): boolean => t === 'int' || t === 'bigint';
const toNumber = (v: CdcValue): number => (typeof v === 'string' ? Number(v) : Number(v));

function compile(n: Node, columns: ReadonlyMap<string, CdcColumn>): Compiled {
  const fail = (why: string, at = n.at): never => {
    throw new ExpressionError(why, at);
  };
  switch (n.k) {
    case 'lit': {
      const v = n.v;
      return { t: n.t, f: () => v };
    }
    case 'col': {
      const c = columns.get(n.name) ?? [...columns.values()].find((x) => x.name.toLowerCase() === n.name.toLowerCase());
      if (!c) return fail(`unknown column '${n.name}' (the table has ${[...columns.keys()].join(', ')})`);
      const name = c.name;
      return { t: exprTypeOfColumn(c), f: (row) => row[name] ?? null, column: c };
    }
    case 'un': {
      const e = compile(n.e, columns);
      if (n.op === 'NOT') {
        if (e.t !== 'boolean' && e.t !== 'null') fail(`NOT needs a boolean, got ${e.t}`);
        return { t: 'boolean', f: (row) => { const v = e.f(row); return v === null ? null : !v; } };
      }
      if (!numeric(e.t) && e.t !== 'null') fail(`unary minus needs a number, got ${e.t}`);
      const t: ExprType = e.t === 'decimal' ? 'double' : e.t === 'null' ? 'int' : e.t;
      return { t, f: (row) => { const v = e.f(row); return v === null ? null : typeof v === 'bigint' ? -v : -toNumber(v); } };
    }
    case 'isnull': {
      const e = compile(n.e, columns);
      return { t: 'boolean', f: n.not ? (row) => e.f(row) !== null : (row) => e.f(row) === null };
    }
    case 'cast': {
      const e = compile(n.e, columns);
      return { t: n.to, f: castTo(n.to, e.f, n.at) };
    }
    case 'call': return compileCall(n.fn, n.args.map((a) => compile(a, columns)), n.at);
    case 'bin': {
      const l = compile(n.l, columns);
      const r = compile(n.r, columns);
      if (n.op === 'AND' || n.op === 'OR') {
        for (const s of [l, r]) if (s.t !== 'boolean' && s.t !== 'null') fail(`${n.op} needs booleans, got ${s.t}`);
        return { t: 'boolean', f: n.op === 'AND' ? and3(l.f, r.f) : or3(l.f, r.f) };
      }
      if (n.op === '||') return compileCall('CONCAT', [l, r], n.at);
      if (['+', '-', '*', '/', '%'].includes(n.op)) {
        for (const s of [l, r]) if (!numeric(s.t) && s.t !== 'null') fail(`'${n.op}' needs numbers, got ${s.t}`);
        const exact = n.op !== '/' && (integral(l.t) || l.t === 'null') && (integral(r.t) || r.t === 'null');
        return { t: exact ? 'bigint' : 'double', f: arithmetic(n.op, exact, l.f, r.f) };
      }
      // comparison
      const comparable = (numeric(l.t) && numeric(r.t)) || l.t === r.t || l.t === 'null' || r.t === 'null';
      if (!comparable) fail(`cannot compare ${l.t} with ${r.t} (CAST one side)`);
      const cmp = numeric(l.t) && numeric(r.t) ? compareNumbers : compareValues;
      const test = COMPARE[n.op]!;
      return { t: 'boolean', f: (row) => { const a = l.f(row); const b = r.f(row); return a === null || b === null ? null : test(cmp(a, b)); } };
    }
  }
}

const COMPARE: Record<string, (c: number) => boolean> = { '=': (c) => c === 0, '<>': (c) => c !== 0, '<': (c) => c < 0, '<=': (c) => c <= 0, '>': (c) => c > 0, '>=': (c) => c >= 0 };

function compareNumbers(a: CdcValue, b: CdcValue): number {
  if ((typeof a === 'bigint' || typeof a === 'number') && (typeof b === 'bigint' || typeof b === 'number')) return a < b ? -1 : a > b ? 1 : 0;
  const x = toNumber(a);
  const y = toNumber(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function compareValues(a: CdcValue, b: CdcValue): number {
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.compare(a, b);
  return (a as string | boolean) < (b as string | boolean) ? -1 : (a as string | boolean) > (b as string | boolean) ? 1 : 0;
}

function and3(l: Evaluator, r: Evaluator): Evaluator {
  return (row) => {
    const a = l(row);
    if (a === false) return false;
    const b = r(row);
    if (b === false) return false;
    return a === null || b === null ? null : true;
  };
}

function or3(l: Evaluator, r: Evaluator): Evaluator {
  return (row) => {
    const a = l(row);
    if (a === true) return true;
    const b = r(row);
    if (b === true) return true;
    return a === null || b === null ? null : false;
  };
}

function arithmetic(op: string, exact: boolean, l: Evaluator, r: Evaluator): Evaluator {
  return (row) => {
    const a = l(row);
    const b = r(row);
    if (a === null || b === null) return null;
    if (exact) {
      const x = BigInt(a as number | bigint);
      const y = BigInt(b as number | bigint);
      if (op === '+') return x + y;
      if (op === '-') return x - y;
      if (op === '*') return x * y;
      return y === 0n ? null : x % y; // MySQL: modulo by zero is NULL
    }
    const x = toNumber(a);
    const y = toNumber(b);
    if (op === '+') return x + y;
    if (op === '-') return x - y;
    if (op === '*') return x * y;
    if (y === 0) return null; // MySQL: division by zero is NULL
    return op === '/' ? x / y : x % y;
  };
}

function castTo(to: ExprType, f: Evaluator, at: number): Evaluator {
  return (row) => {
    const v = f(row);
    if (v === null) return null;
    switch (to) {
      case 'string': return v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : String(v);
      case 'boolean': return typeof v === 'string' ? v.trim().toLowerCase() === 'true' || (v.trim() !== '' && Number(v) !== 0 && !Number.isNaN(Number(v))) : Boolean(v);
      case 'double': { const n = typeof v === 'boolean' ? Number(v) : toNumber(v); return Number.isNaN(n) ? null : n; }
      default: {
        if (typeof v === 'bigint') return v;
        if (typeof v === 'boolean') return v ? 1n : 0n;
        const n = toNumber(v);
        if (!Number.isFinite(n)) return null;
        // MySQL rounds DECIMAL/DOUBLE to the nearest integer on CAST(... AS SIGNED); Flink truncates: Flink's rule
        return BigInt(Math.trunc(n));
      }
    }
  };
  void at;
}

function compileCall(fn: string, args: Compiled[], at: number): Compiled {
  const arity = (n: number): void => {
    if (args.length !== n) throw new ExpressionError(`${fn} takes ${n} argument${n === 1 ? '' : 's'}, got ${args.length}`, at);
  };
  const str = (v: CdcValue): string => (v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : String(v));
  switch (fn) {
    case 'UPPER': case 'LOWER': case 'TRIM': {
      arity(1);
      const a = args[0]!.f;
      const g = fn === 'UPPER' ? (s: string) => s.toUpperCase() : fn === 'LOWER' ? (s: string) => s.toLowerCase() : (s: string) => s.trim();
      return { t: 'string', f: (row) => { const v = a(row); return v === null ? null : g(str(v)); } };
    }
    case 'CHAR_LENGTH': {
      arity(1);
      const a = args[0]!.f;
      return { t: 'int', f: (row) => { const v = a(row); return v === null ? null : [...str(v)].length; } };
    }
    case 'CONCAT': {
      if (args.length === 0) throw new ExpressionError('CONCAT takes at least one argument', at);
      const fs = args.map((a) => a.f);
      return { t: 'string', f: (row) => { let s = ''; for (const g of fs) { const v = g(row); if (v === null) return null; s += str(v); } return s; } };
    }
    case 'ABS': {
      arity(1);
      const a = args[0]!;
      if (!numeric(a.t) && a.t !== 'null') throw new ExpressionError(`ABS needs a number, got ${a.t}`, at);
      return { t: a.t === 'decimal' ? 'double' : a.t, f: (row) => { const v = a.f(row); return v === null ? null : typeof v === 'bigint' ? (v < 0n ? -v : v) : Math.abs(toNumber(v)); } };
    }
    case 'COALESCE': {
      if (args.length === 0) throw new ExpressionError('COALESCE takes at least one argument', at);
      const ts = new Set(args.map((a) => a.t).filter((t) => t !== 'null'));
      const t: ExprType = ts.size === 0 ? 'null' : ts.size === 1 ? [...ts][0]! : [...ts].every(numeric) ? 'double' : 'string';
      if (ts.size > 1 && !([...ts].every(numeric))) throw new ExpressionError(`COALESCE arguments have different types (${[...ts].join(', ')}): CAST them to one`, at);
      const fs = args.map((a) => a.f);
      const conv = t === 'double' ? (v: CdcValue) => toNumber(v) : (v: CdcValue) => v;
      return { t, f: (row) => { for (const g of fs) { const v = g(row); if (v !== null) return conv(v); } return null; } };
    }
  }
  throw new ExpressionError(`function '${fn}' is not supported`, at);
}

// ---------- public ----------

/** A parsed expression, to be compiled against a table's columns. */
export interface ParsedExpression {
  readonly text: string;
  readonly node: Node;
}

/** A projection item: `*` (every column of the table, as it is now and after schema changes) or an expression with its output name. */
export type ProjectionItem = { star: true; at: number } | { star: false; name: string; expr: ParsedExpression; at: number };

/** Parses a filter (one boolean expression). */
export function parseExpression(text: string): ParsedExpression {
  const p = new Parser(tokenize(text));
  const node = p.expression();
  if (!p.atEnd()) p.unexpected('the end of the expression (or AND / OR)');
  return { text, node };
}

/** Parses a projection: comma-separated items, `*` or `expression [AS alias]`. */
export function parseProjection(text: string): ProjectionItem[] {
  const p = new Parser(tokenize(text));
  const items: ProjectionItem[] = [];
  for (;;) {
    if (p.atStar()) items.push({ star: true, at: p.star() });
    else {
      const start = p['peek']().at;
      const node = p.expression();
      const alias = p.alias();
      const name = alias ?? (node.k === 'col' ? node.name : undefined);
      if (name === undefined) throw new ExpressionError(`the computed column '${text.slice(start, p['peek']().at).trim()}' needs a name: add AS <name>`, start);
      items.push({ star: false, name, expr: { text, node }, at: start });
    }
    if (p.atEnd()) return items;
    if (!p.atComma()) p.unexpected("',' between projection items (or AS <name>)");
    p.skipComma();
  }
}

export interface CompiledExpression {
  type: ExprType;
  evaluate: Evaluator;
  /** Set when the expression is a bare column: downstream keeps its exact MySQL type. */
  column?: CdcColumn;
}

/** Types an expression against the columns; an unknown column or a type mismatch is an ExpressionError. */
export function compileExpression(e: ParsedExpression, columns: readonly CdcColumn[]): CompiledExpression {
  const c = compile(e.node, new Map(columns.map((x) => [x.name, x])));
  return { type: c.t, evaluate: c.f, ...(c.column ? { column: c.column } : {}) };
}

/** A filter: compiled, it must be boolean; a row passes only when it evaluates to TRUE. */
export function compileFilter(e: ParsedExpression, columns: readonly CdcColumn[]): (row: Record<string, CdcValue>) => boolean {
  const c = compileExpression(e, columns);
  if (c.type !== 'boolean' && c.type !== 'null') throw new ExpressionError(`a filter must be a condition (boolean), this one is ${c.type}`, 0);
  return (row) => c.evaluate(row) === true;
}
