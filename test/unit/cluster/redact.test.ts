import { describe, expect, it } from 'vitest';
import { Redactor } from '../../../runtime/cluster/redact.ts';
import { refusal, checkBinding } from '../../../runtime/rest/rest-auth.ts';
import type http from 'node:http';

describe('Redactor', () => {
  const params = { user: 'app', password: 'p4ssw0rd!', nested: { apiKey: 'AKIA-123456', list: [{ secretToken: 'tok-zzz' }] }, sinkToken: 1234567, count: 10 };
  const r = new Redactor(params);

  it('masks secret-named parameters at any depth and keeps the others', () => {
    expect(r.params(params)).toEqual({ user: 'app', password: '******', nested: { apiKey: '******', list: [{ secretToken: '******' }] }, sinkToken: '******', count: 10 });
  });

  it('masks secret values wherever they appear in text', () => {
    expect(r.text('connect failed: mysql://app:p4ssw0rd!@db with key AKIA-123456 and tok-zzz, 1234567')).toBe('connect failed: mysql://app:******@db with key ****** and ******, ******');
    expect(r.text('nothing secret: app 10')).toBe('nothing secret: app 10');
  });
});

describe('REST access rules', () => {
  const req = (headers: Record<string, string>) => ({ headers }) as unknown as http.IncomingMessage;

  it('needs a token to bind off loopback', () => {
    expect(() => checkBinding('0.0.0.0', undefined)).toThrow(/--token/);
    expect(() => checkBinding('0.0.0.0', 'short')).toThrow(/at least 16/);
    expect(() => checkBinding('127.0.0.1', undefined)).not.toThrow();
  });

  it('answers with the token (header or cookie) and refuses without it', () => {
    const token = 'abcdefghijklmnopqrstuvwx';
    expect(refusal(req({ host: '10.0.0.5:8081' }), token)?.status).toBe(401);
    expect(refusal(req({ host: '10.0.0.5:8081', authorization: 'Bearer nope' }), token)?.status).toBe(401);
    expect(refusal(req({ host: '10.0.0.5:8081', authorization: `Bearer ${token}` }), token)).toBeUndefined();
    expect(refusal(req({ host: '10.0.0.5:8081', cookie: `a=b; weir_token=${token}` }), token)).toBeUndefined();
  });

  it('on loopback without a token refuses a Host that is not a loopback name', () => {
    expect(refusal(req({ host: '127.0.0.1:8081' }), undefined)).toBeUndefined();
    expect(refusal(req({ host: 'localhost:8081' }), undefined)).toBeUndefined();
    expect(refusal(req({ host: '[::1]:8081' }), undefined)).toBeUndefined();
    expect(refusal(req({ host: 'attacker.example:8081' }), undefined)?.status).toBe(403);
  });
});
