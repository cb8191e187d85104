import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '@fluxmq/config';
import { SignJWT, type JWTPayload } from 'jose';
import { describe, expect, it } from 'vitest';
import { JwtVerifier, looksLikeJwt, type JwtConfig } from '../src/jwt';

const SECRET = 'a-shared-secret-of-at-least-32-bytes!';

function settings(overrides: Partial<JwtConfig>): JwtConfig {
  return { ...defaultConfig().auth.jwt, enabled: true, ...overrides };
}

function sign(
  claims: JWTPayload,
  alg: string,
  key: KeyObject | Uint8Array,
  times: { exp?: number | string; nbf?: number | string } = { exp: '5m' },
): Promise<string> {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg }).setIssuedAt();
  if (times.exp !== undefined) jwt.setExpirationTime(times.exp);
  if (times.nbf !== undefined) jwt.setNotBefore(times.nbf);
  return jwt.sign(key);
}

const secretKey = new TextEncoder().encode(SECRET);
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pem = (key: KeyObject) => key.export({ type: 'spki', format: 'pem' }).toString();

describe('JWT login', () => {
  it('accepts an HS256 token, taking the username and the ACL from its claims', async () => {
    const verifier = new JwtVerifier(settings({ secret: SECRET }));
    const token = await sign(
      { sub: 'alice', acl: [{ action: 'publish', topic: 'a/%u' }] },
      'HS256',
      secretKey,
    );
    const login = await verifier.verify(token);
    expect(login).toMatchObject({ ok: true, username: 'alice' });
    expect(login.ok && login.acl?.map((r) => r.decision)).toEqual([{ allowed: true, rule: 'jwt.acl[0]' }]);
  });

  it('accepts RS256 and ES256 tokens against a PEM public key, inline or from a file', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'fluxmq-jwt-')), 'ec.pem');
    writeFileSync(file, pem(ec.publicKey));
    const rs = new JwtVerifier(settings({ algorithms: ['RS256'], publicKey: pem(rsa.publicKey) }));
    const es = new JwtVerifier(settings({ algorithms: ['ES256'], publicKeyFile: file }));
    expect(await rs.verify(await sign({ sub: 'r' }, 'RS256', rsa.privateKey))).toMatchObject({
      ok: true,
      username: 'r',
    });
    expect(await es.verify(await sign({ sub: 'e' }, 'ES256', ec.privateKey))).toMatchObject({
      ok: true,
      username: 'e',
    });
    // The right algorithm family with the wrong key, and an algorithm not configured.
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(await es.verify(await sign({ sub: 'e' }, 'ES256', other.privateKey))).toMatchObject({
      ok: false,
      why: expect.stringContaining('signature verification failed'),
    });
    expect(await rs.verify(await sign({ sub: 'e' }, 'ES256', ec.privateKey))).toMatchObject({
      ok: false,
      why: expect.stringContaining('"alg" (Algorithm) Header Parameter value not allowed'),
    });
  });

  it('refuses an HS256 token signed with the public key as secret (algorithm confusion)', async () => {
    const publicKey = pem(rsa.publicKey);
    const verifier = new JwtVerifier(settings({ algorithms: ['RS256', 'HS256'], secret: SECRET, publicKey }));
    const forged = await sign({ sub: 'mallory' }, 'HS256', new TextEncoder().encode(publicKey));
    expect(await verifier.verify(forged)).toMatchObject({ ok: false });
  });

  it('refuses expired and not-yet-valid tokens, with the configured clock tolerance', async () => {
    const verifier = new JwtVerifier(settings({ secret: SECRET, clockToleranceSeconds: 30 }));
    const now = Math.floor(Date.now() / 1000);
    const expired = await sign({ sub: 'a' }, 'HS256', secretKey, { exp: now - 60 });
    const early = await sign({ sub: 'a' }, 'HS256', secretKey, { nbf: now + 60 });
    const withinTolerance = await sign({ sub: 'a' }, 'HS256', secretKey, { exp: now - 10, nbf: now + 10 });
    expect(await verifier.verify(expired)).toEqual({ ok: false, why: 'token expired' });
    expect(await verifier.verify(early)).toMatchObject({ ok: false, why: expect.stringContaining('"nbf"') });
    expect(await verifier.verify(withinTolerance)).toMatchObject({ ok: true });
  });

  it('refuses a wrong signature, issuer or audience', async () => {
    const verifier = new JwtVerifier(settings({ secret: SECRET, issuer: 'https://idp', audience: 'fluxmq' }));
    const good = { sub: 'a', iss: 'https://idp', aud: 'fluxmq' };
    expect(await verifier.verify(await sign(good, 'HS256', secretKey))).toMatchObject({ ok: true });
    const wrongKey = new TextEncoder().encode('another-secret-of-at-least-32-bytes!!');
    expect(await verifier.verify(await sign(good, 'HS256', wrongKey))).toMatchObject({ ok: false });
    expect(
      await verifier.verify(await sign({ ...good, iss: 'https://evil' }, 'HS256', secretKey)),
    ).toMatchObject({
      ok: false,
      why: expect.stringContaining('"iss"'),
    });
    expect(await verifier.verify(await sign({ ...good, aud: 'other' }, 'HS256', secretKey))).toMatchObject({
      ok: false,
      why: expect.stringContaining('"aud"'),
    });
  });

  it('refuses a token without the username claim or with a malformed ACL claim', async () => {
    const verifier = new JwtVerifier(settings({ secret: SECRET, usernameClaim: 'preferred_username' }));
    expect(await verifier.verify(await sign({ sub: 'a' }, 'HS256', secretKey))).toEqual({
      ok: false,
      why: 'token has no preferred_username claim',
    });
    const malformed = [
      { preferred_username: 'a', acl: 'all' },
      { preferred_username: 'a', acl: [{ topic: 'x', username: 'b' }] },
    ];
    for (const claims of malformed) {
      expect(await verifier.verify(await sign(claims, 'HS256', secretKey))).toMatchObject({ ok: false });
    }
  });

  it('tells tokens from passwords', async () => {
    expect(looksLikeJwt(Buffer.from(await sign({ sub: 'a' }, 'HS256', secretKey)))).toBe(true);
    expect(looksLikeJwt(Buffer.from('hunter2'))).toBe(false);
    expect(looksLikeJwt(Buffer.from('a.b.c'))).toBe(false);
  });
});
