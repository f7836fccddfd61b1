/**
 * Secrets in job parameters stay out of logs, REST answers and the dashboard. A parameter whose
 * name says it is a secret (password, secret, token, key, credential, auth, ...) is shown as
 * `******`, at any depth; and the string values of such parameters are masked wherever they appear
 * in text the cluster shows (an error message that quotes a connection string, say).
 */
import type { JsonValue } from '../graph/job-definition.ts';

export const REDACTED = '******';
const SECRET_NAME = /pass(word|wd|phrase)?|secret|token|key|credential|auth|private|signature|cookie|session/i;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

export class Redactor {
  private readonly secrets: string[] = [];

  constructor(params?: JsonValue) {
    this.collect(params, false);
    // Longest first, so a secret that contains another is masked whole.
    this.secrets.sort((a, b) => b.length - a.length);
  }

  private collect(v: JsonValue | undefined, secret: boolean): void {
    if (v === null || v === undefined) return;
    if (typeof v === 'string') {
      if (secret && v.length >= 3) this.secrets.push(v);
    } else if (typeof v === 'number' || typeof v === 'boolean') {
      if (secret && String(v).length >= 4) this.secrets.push(String(v));
    } else if (Array.isArray(v)) for (const x of v) this.collect(x, secret);
    else for (const [k, x] of Object.entries(v)) this.collect(x, secret || isSecretName(k));
  }

  /** A copy of the parameters with secret values replaced. */
  params(v: JsonValue | undefined): JsonValue | undefined {
    if (v === null || v === undefined || typeof v !== 'object') return typeof v === 'string' ? this.text(v) : v;
    if (Array.isArray(v)) return v.map((x) => this.params(x) ?? null);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, isSecretName(k) ? REDACTED : (this.params(x) ?? null)]));
  }

  /** Text with every secret value masked. */
  text(s: string): string {
    let out = s;
    for (const secret of this.secrets) out = out.split(secret).join(REDACTED);
    return out;
  }
}
