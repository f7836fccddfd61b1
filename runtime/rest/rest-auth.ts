/**
 * Who may call the REST API. Bound to loopback (the default) the API is open to local users, as
 * Flink's is, but requests must name a loopback host (a web page elsewhere cannot reach it through
 * DNS rebinding). Bound to any other address it needs a token, presented by every call as
 * `Authorization: Bearer <token>` or, for the dashboard in a browser, as the `weir_token` cookie set
 * by opening `/?token=<token>` once.
 */
import { timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import { ConfigError } from '../errors.ts';

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/** Refuses to serve off loopback without a token. */
export function checkBinding(host: string, token: string | undefined): void {
  if (!isLoopback(host) && !token) {
    throw new ConfigError('--token', `binding to ${host} exposes the REST API and dashboard beyond this machine: give a token (--token or WEIR_TOKEN) that every call must present, or bind to 127.0.0.1`);
  }
  if (token !== undefined && token.length < 16) throw new ConfigError('--token', 'must be at least 16 characters');
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function cookieToken(req: http.IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === 'weir_token') return decodeURIComponent(v.join('='));
  }
  return undefined;
}

export function presentedToken(req: http.IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  return cookieToken(req);
}

export function tokenMatches(given: string | undefined, token: string): boolean {
  return given !== undefined && same(given, token);
}

/** Undefined when the request may go on, else the status and reason to refuse it with. */
export function refusal(req: http.IncomingMessage, token: string | undefined): { status: number; error: string } | undefined {
  if (token) {
    return tokenMatches(presentedToken(req), token) ? undefined : { status: 401, error: 'this cluster needs a token: send Authorization: Bearer <token> (the dashboard: open /?token=<token>)' };
  }
  const host = (req.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  if (!isLoopback(host)) return { status: 403, error: `the cluster serves loopback only; Host '${req.headers.host ?? ''}' is not a loopback name` };
  return undefined;
}
