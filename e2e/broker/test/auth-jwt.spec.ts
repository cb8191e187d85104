import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, type JWTPayload } from 'jose';
import { describe, expect } from 'vitest';
import { connackCode, fluxOnly, mosquittoPub, RawClient, startMosquittoSub, TestClient, v5 } from './support';
import { startAuthBroker, type AuthBroker } from './support/auth-broker';

// JWT login: a token as the CONNECT password; its claims give the username and the client's own ACL.
const it = fluxOnly('JWT authentication is configured through FluxMQ itself');

const SECRET = 'e2e-shared-secret-of-at-least-32-bytes';
const secretKey = new TextEncoder().encode(SECRET);

function hs256(claims: JWTPayload, expires: number | string = '5m', key = secretKey): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(expires).sign(key);
}

async function connackFor(
  broker: AuthBroker,
  protocolVersion: 4 | 5,
  token: string,
): Promise<number | undefined> {
  const raw = await RawClient.open(broker, { protocolVersion });
  return connackCode(await raw.connect({ username: 'anyone', password: Buffer.from(token) }));
}

describe('JWT login', () => {
  it('takes the username and the ACL from the claims of an HS256 token', async () => {
    const broker = await startAuthBroker({
      auth: { jwt: { enabled: true, secret: SECRET }, acl: [{ effect: 'allow', topic: 'users/%u/#' }] },
    });
    const token = await hs256({ sub: 'sensor-9', acl: [{ action: 'publish', topic: 'sensors/sensor-9/#' }] });
    const client = await TestClient.connect(broker.tcpUrl, { ...v5, username: 'claimed', password: token });
    const engineClient = [...broker.server.broker.clients].find((c) => c.clientId === client.clientId);
    expect(engineClient?.username).toBe('sensor-9'); // from `sub`, not what the client sent

    await client.subscribe('users/sensor-9/#', { qos: 1 }); // %u is the token's username
    await expect(client.subscribe('users/claimed/#', { qos: 1 })).rejects.toThrow(/not authorized/i);
    await client.publish('sensors/sensor-9/temp', '21', { qos: 1 }); // the token's own rule
    await expect(client.publish('sensors/sensor-8/temp', '21', { qos: 1 })).rejects.toThrow(
      /not authorized/i,
    );
    await expect(client.subscribe('sensors/sensor-9/#', { qos: 1 })).rejects.toThrow(/not authorized/i);

    // mosquitto_pub with the token as -P, over 3.1.1; mosquitto_sub as the same identity.
    const sub = await startMosquittoSub(broker, [
      '-V',
      'mqttv5',
      '-u',
      'x',
      '-P',
      token,
      '-t',
      'users/sensor-9/#',
      '-C',
      '1',
    ]);
    const other = await hs256({ sub: 'sensor-9', acl: [{ topic: 'users/sensor-9/#' }] });
    const pub = await mosquittoPub(broker, [
      '-V',
      'mqttv311',
      '-u',
      'x',
      '-P',
      other,
      '-q',
      '1',
      '-t',
      'users/sensor-9/in',
      '-m',
      'via cli',
    ]);
    expect(pub.code).toBe(0);
    await sub.done();
    expect(sub.messages.map((m) => m.payload)).toEqual(['via cli']);
    expect(JSON.stringify(broker.logs)).not.toContain(token);
  });

  it('refuses an expired token, a bad signature and a wrong issuer with 0x86 (5.0) or return code 4 (3.1.1)', async () => {
    const broker = await startAuthBroker({
      auth: { jwt: { enabled: true, secret: SECRET, issuer: 'https://idp.test', clockToleranceSeconds: 5 } },
    });
    const now = Math.floor(Date.now() / 1000);
    const good = await hs256({ sub: 'a', iss: 'https://idp.test' });
    const expired = await hs256({ sub: 'a', iss: 'https://idp.test' }, now - 60);
    const forged = await hs256(
      { sub: 'a', iss: 'https://idp.test' },
      '5m',
      new TextEncoder().encode('x'.repeat(40)),
    );
    const otherIssuer = await hs256({ sub: 'a', iss: 'https://evil.test' });
    for (const [version, bad] of [
      [5, 0x86],
      [4, 4],
    ] as const) {
      expect(await connackFor(broker, version, good)).toBe(0);
      for (const token of [expired, forged, otherIssuer])
        expect(await connackFor(broker, version, token)).toBe(bad);
    }
    expect(broker.logs).toContainEqual(
      expect.objectContaining({ msg: 'authentication failed', method: 'jwt', why: 'token expired' }),
    );
  });

  it('verifies ES256 tokens against a public key file', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const file = join(mkdtempSync(join(tmpdir(), 'fluxmq-jwt-')), 'jwt.pem');
    writeFileSync(file, publicKey.export({ type: 'spki', format: 'pem' }));
    const broker = await startAuthBroker({
      auth: { jwt: { enabled: true, algorithms: ['ES256'], publicKeyFile: file } },
    });
    const es256 = await new SignJWT({ sub: 'edge-1' })
      .setProtectedHeader({ alg: 'ES256' })
      .setExpirationTime('5m')
      .sign(privateKey);
    expect(await connackFor(broker, 5, es256)).toBe(0);
    expect(await connackFor(broker, 5, await hs256({ sub: 'edge-1' }))).toBe(0x86); // HS256 not accepted
  });
});
