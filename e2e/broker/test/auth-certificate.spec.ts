import type { FluxConfigInput } from '@fluxmq/config';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { createPki, type Pki } from '../../../libs/listeners/test/certificates';
import {
  fluxOnly,
  mosquittoPub,
  startMosquittoSub,
  TestClient,
  v311,
  v5,
  type ClientOptions,
} from './support';
import { startAuthBroker, type AuthBroker } from './support/auth-broker';

// Certificate login: a client that presents a CA-signed certificate (mTLS) logs in as its CN or first SAN.
const it = fluxOnly('certificate login is configured through FluxMQ itself');

let pki: Pki;
beforeAll(() => {
  pki = createPki();
});
afterAll(() => pki.remove());

function mtlsBroker(identity: 'cn' | 'san'): Promise<AuthBroker> {
  const tls: NonNullable<FluxConfigInput['listeners']>['tls'] = {
    enabled: true,
    host: '127.0.0.1',
    port: 0,
    certFile: pki.server.cert,
    keyFile: pki.server.key,
    caFile: pki.ca,
    clientCertificates: 'optional',
  };
  return startAuthBroker({
    listeners: { tls },
    auth: {
      certificate: { enabled: true, identity },
      acl: [
        { effect: 'allow', topic: 'users/%u/#' },
        { effect: 'allow', action: 'subscribe', topic: 'fleet/#', username: 'sensor-17' },
      ],
    },
  });
}

const trusted = (): ClientOptions => ({ ca: pki.read(pki.ca) });
const withCertificate = (): ClientOptions => ({
  ...trusted(),
  cert: pki.read(pki.client.cert),
  key: pki.read(pki.client.key),
});

function usernameOf(broker: AuthBroker, clientId: string): string | undefined {
  return [...broker.server.broker.clients].find((c) => c.clientId === clientId)?.username;
}

describe('certificate login', () => {
  it("logs a client in as its certificate's CN, whatever username it sends; refuses one without", async () => {
    const broker = await mtlsBroker('cn');
    const client = await TestClient.connect(broker.tlsUrl, {
      ...v5,
      ...withCertificate(),
      username: 'admin',
    });
    expect(usernameOf(broker, client.clientId)).toBe('sensor-17');
    await client.subscribe('fleet/#', { qos: 1 });
    await client.subscribe('users/sensor-17/#', { qos: 1 });
    await expect(client.subscribe('users/admin/#', { qos: 1 })).rejects.toThrow(/not authorized/i);
    await client.publish('users/sensor-17/hello', 'by certificate', { qos: 1 });
    expect((await client.waitForMessage('users/sensor-17/hello')).text).toBe('by certificate');

    await expect(TestClient.connect(broker.tlsUrl, { ...v5, ...trusted() })).rejects.toThrow(
      /not authorized/i,
    );
    await expect(TestClient.connect(broker.tlsUrl, { ...v311, ...trusted() })).rejects.toThrow(
      /not authorized/i,
    );
    await expect(TestClient.connect(broker.tcpUrl, v5)).rejects.toThrow(/not authorized/i);
  });

  it('logs a client in as the first Subject Alternative Name when identity is san', async () => {
    const broker = await mtlsBroker('san');
    const client = await TestClient.connect(broker.tlsUrl, { ...v311, ...withCertificate() });
    expect(usernameOf(broker, client.clientId)).toBe('sensor-17.local');
    await client.subscribe('users/sensor-17.local/#', { qos: 0 });
  });

  it('logs mosquitto_pub and mosquitto_sub in by --cert/--key', async () => {
    const broker = await mtlsBroker('cn');
    const overTls = { ...broker, tcpPort: broker.server.ports['tls'] };
    const tlsArgs = ['--cafile', pki.ca, '--cert', pki.client.cert, '--key', pki.client.key];
    const sub = await startMosquittoSub(overTls, [
      '-V',
      'mqttv5',
      ...tlsArgs,
      '-t',
      'users/sensor-17/#',
      '-C',
      '1',
    ]);
    const pub = await mosquittoPub(overTls, [
      ...['-V', 'mqttv311', ...tlsArgs, '-q', '1', '-t', 'users/sensor-17/cli', '-m', 'mtls'],
    ]);
    expect(pub.code).toBe(0);
    await sub.done();
    expect(sub.messages.map((m) => [m.topic, m.payload])).toEqual([['users/sensor-17/cli', 'mtls']]);
    const anonymous = await mosquittoPub(overTls, ['--cafile', pki.ca, '-t', 'users/x', '-m', 'x']);
    expect(anonymous.code).not.toBe(0);
    expect(anonymous.stderr).toMatch(/not authori[sz]ed/i);
  });
});
