import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import type { FluxConfigInput } from '@fluxmq/config';
import type { BrokerServer, BrokerServerOptions } from '@fluxmq/server';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import WebSocket from 'ws';
import {
  fluxOnly,
  mergeConfig,
  onCleanup,
  TestClient,
  uniqueId,
  v311,
  v5,
  waitUntil,
  withTimeout,
  type ClientOptions,
} from './support';
import { createPki, type Pki } from '../../../libs/listeners/test/certificates';

// TLS and secure WebSocket listeners, mTLS, certificate reload, WebSocket Origin allow-list and connection
// limits. The broker runs in-process through @fluxmq/server (the tests need its tls/wss ports, its hooks and
// its log), so the whole file is FluxMQ-only.
const it = fluxOnly('TLS listeners, hooks and limits are configured through FluxMQ itself');

type Authenticator = NonNullable<NonNullable<BrokerServerOptions['hooks']>['authenticator']>;
type ConnectRequest = Parameters<Authenticator['authenticate']>[0];
type LogLine = { level: string; msg: string } & Record<string, unknown>;

const HOST = '127.0.0.1';

let pki: Pki;
beforeAll(() => {
  pki = createPki();
});
afterAll(() => pki.remove());

interface TlsBroker {
  server: BrokerServer;
  logs: LogLine[];
  tcpUrl: string;
  tlsUrl: string;
  wsUrl: string;
  wssUrl: string;
}

/** A broker with all four listeners on loopback (TLS ones with the test PKI's server certificate). */
async function startTlsBroker(
  overrides: FluxConfigInput = {},
  hooks: BrokerServerOptions['hooks'] = {},
): Promise<TlsBroker> {
  // Imported lazily, as in support/broker.ts: mosquitto mode must not load the engine.
  const { loadConfig } = await import('@fluxmq/config');
  const { startBrokerServer } = await import('@fluxmq/server');
  const files = { certFile: pki.server.cert, keyFile: pki.server.key, caFile: pki.ca };
  const base: FluxConfigInput = {
    listeners: {
      tcp: { host: HOST, port: 0 },
      ws: { host: HOST, port: 0 },
      tls: { enabled: true, host: HOST, port: 0, ...files },
      wss: { enabled: true, host: HOST, port: 0, ...files },
    },
    http: { host: HOST, port: 0 },
    sys: { enabled: false },
    persistence: { enabled: false },
  };
  const config = loadConfig({ env: {}, overrides: mergeConfig(base, overrides) });
  const logs: LogLine[] = [];
  const line =
    (level: string) =>
    (msg: string, fields: Record<string, unknown> = {}): void => {
      logs.push({ ...fields, level, msg });
    };
  const logger = { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
  const server = await startBrokerServer(config, { logger, hooks });
  onCleanup('tls broker', () => server.close());
  const { tcp, ws, tls, wss } = server.ports;
  return {
    server,
    logs,
    tcpUrl: `mqtt://${HOST}:${tcp}`,
    tlsUrl: `mqtts://${HOST}:${tls}`,
    wsUrl: `ws://${HOST}:${ws}/mqtt`,
    wssUrl: `wss://${HOST}:${wss}/mqtt`,
  };
}

const trusted = (): ClientOptions => ({ ca: pki.read(pki.ca) });
const withClientCert = (): ClientOptions => ({
  ...trusted(),
  cert: pki.read(pki.client.cert),
  key: pki.read(pki.client.key),
});
const withRogueCert = (): ClientOptions => ({
  ...trusted(),
  cert: pki.read(pki.rogue.cert),
  key: pki.read(pki.rogue.key),
});

/** The serial number of the certificate a new TLS connection to `port` is served (verified against the CA). */
function servedSerial(port: number): Promise<string> {
  return withTimeout(
    new Promise<string>((resolve, reject) => {
      const socket = tlsConnect({ host: HOST, port, servername: 'localhost', ca: pki.read(pki.ca) });
      socket.once('secureConnect', () => {
        resolve(socket.getPeerCertificate().serialNumber);
        socket.destroy();
      });
      socket.once('error', reject);
    }),
    3000,
    `TLS handshake with :${port}`,
  );
}

/** A bare WebSocket upgrade with an Origin header: resolves 'open' or the HTTP status it was refused with. */
function upgrade(url: string, options: WebSocket.ClientOptions): Promise<string> {
  return withTimeout(
    new Promise<string>((resolve, reject) => {
      const ws = new WebSocket(url, ['mqtt'], options);
      onCleanup('websocket', () => ws.terminate());
      ws.once('open', () => {
        resolve('open');
        ws.close();
      });
      ws.once('unexpected-response', (_req, res) => resolve(`HTTP ${res.statusCode}`));
      ws.once('error', reject);
    }),
    3000,
    `WebSocket upgrade of ${url}`,
  );
}

async function roundTrip(subscriber: TestClient, publisher: TestClient, topic: string): Promise<void> {
  await subscriber.subscribe(topic, { qos: 1 });
  await publisher.publish(topic, `to ${subscriber.clientId}`, { qos: 1 });
  expect((await subscriber.waitForMessage(topic)).text).toBe(`to ${subscriber.clientId}`);
}

describe('MQTT over TLS and secure WebSocket', () => {
  it('serves mqtts:// with a certificate the client verifies, and logs the tls and wss listeners', async () => {
    const broker = await startTlsBroker();
    const client = await TestClient.connect(broker.tlsUrl, { ...v5, ...trusted() });
    await roundTrip(client, client, 'tls/echo');
    expect(await servedSerial(broker.server.ports['tls'])).toBe(pki.server.serial);
    for (const name of ['tls', 'wss']) {
      expect(broker.logs).toContainEqual(
        expect.objectContaining({ msg: 'listener started', listener: name, port: broker.server.ports[name] }),
      );
    }
  });

  it('routes between TCP, TLS, WebSocket and secure WebSocket clients', async () => {
    const broker = await startTlsBroker();
    const overWss = await TestClient.connect(broker.wssUrl, { ...v311, ...trusted() });
    const overTls = await TestClient.connect(broker.tlsUrl, { ...v5, ...trusted() });
    const overTcp = await TestClient.connect(broker.tcpUrl, v5);
    const overWs = await TestClient.connect(broker.wsUrl, v311);
    await roundTrip(overWss, overTcp, 'bridge/tcp-to-wss');
    await roundTrip(overTcp, overWss, 'bridge/wss-to-tcp');
    await roundTrip(overWs, overTls, 'bridge/tls-to-ws');
    await roundTrip(overTls, overWss, 'bridge/wss-to-tls');
  });

  it('refuses a TLS client that does not trust the server certificate', async () => {
    const broker = await startTlsBroker();
    await expect(TestClient.connect(broker.tlsUrl, v5)).rejects.toThrow(
      /self.signed|unable to (get|verify)/i,
    );
  });
});

describe('client certificates (mTLS)', () => {
  const mtls = (mode: 'optional' | 'required'): FluxConfigInput => ({
    listeners: { tls: { clientCertificates: mode }, wss: { clientCertificates: mode } },
  });

  it('required: refuses a client without a certificate and one with a self-signed look-alike, admits a CA-signed one', async () => {
    const broker = await startTlsBroker(mtls('required'));
    for (const url of [broker.tlsUrl, broker.wssUrl]) {
      await expect(TestClient.connect(url, trusted())).rejects.toThrow();
      await expect(TestClient.connect(url, withRogueCert())).rejects.toThrow();
      const client = await TestClient.connect(url, withClientCert());
      await roundTrip(client, client, `mtls/${client.clientId}`);
    }
    // Plain TCP is a listener of its own, unaffected by the TLS listeners' policy.
    await TestClient.connect(broker.tcpUrl, v5);
  });

  it('optional: admits clients with and without a certificate, refuses an unverifiable one', async () => {
    const broker = await startTlsBroker(mtls('optional'));
    for (const url of [broker.tlsUrl, broker.wssUrl]) {
      await TestClient.connect(url, trusted());
      await TestClient.connect(url, withClientCert());
      await expect(TestClient.connect(url, withRogueCert())).rejects.toThrow();
    }
  });

  it("passes the client certificate's CN and SANs to the authenticator, which can log the client in by it", async () => {
    const requests: ConnectRequest[] = [];
    const authenticator: Authenticator = {
      authenticate(request) {
        requests.push(request);
        const cn = request.certificate?.commonName;
        return cn ? { ok: true, username: cn } : { ok: false, reasonCode: 0x86, reason: 'no certificate' };
      },
    };
    const broker = await startTlsBroker(mtls('optional'), { authenticator });
    await TestClient.connect(broker.tlsUrl, { ...v5, ...withClientCert(), clientId: 'by-cert-tls' });
    await TestClient.connect(broker.wssUrl, { ...v5, ...withClientCert(), clientId: 'by-cert-wss' });
    await expect(TestClient.connect(broker.tlsUrl, { ...v5, ...trusted() })).rejects.toThrow(
      /bad user name or password/i,
    );
    const identity = {
      subject: 'O=Acme\nCN=sensor-17',
      commonName: 'sensor-17',
      subjectAltNames: ['DNS:sensor-17.local', 'email:ops@acme.test', 'URI:spiffe://acme/sensor-17'],
    };
    expect(requests.map((r) => [r.clientId, r.listener, r.certificate])).toEqual([
      ['by-cert-tls', 'tls', identity],
      ['by-cert-wss', 'wss', identity],
      [expect.any(String), 'tls', undefined],
    ]);
  });
});

describe('certificate reload', () => {
  it('serves a certificate replaced on disk (by rename) to new connections; existing ones stay up; a broken one is not used', async () => {
    // Files of its own: replacing them must not disturb other tests.
    const certFile = join(pki.dir, 'live.crt');
    const keyFile = join(pki.dir, 'live.key');
    pki.replace(certFile, pki.read(pki.server.cert));
    pki.replace(keyFile, pki.read(pki.server.key));
    const broker = await startTlsBroker({ listeners: { tls: { certFile, keyFile } } });
    const port = broker.server.ports['tls'];
    const subscriber = await TestClient.connect(broker.tlsUrl, { ...v5, ...trusted() });
    await subscriber.subscribe('reload/#', { qos: 1 });

    const renewed = pki.issueServer('renewed');
    pki.replace(keyFile, pki.read(renewed.key));
    pki.replace(certFile, pki.read(renewed.cert));
    await expect.poll(() => servedSerial(port), { timeout: 5000, interval: 100 }).toBe(renewed.serial);
    const publisher = await TestClient.connect(broker.tlsUrl, { ...v5, ...trusted() });
    await publisher.publish('reload/after', 'still here', { qos: 1 });
    expect((await subscriber.waitForMessage('reload/after')).text).toBe('still here');

    const garbage = '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n';
    pki.replace(certFile, garbage);
    await waitUntil(
      () => broker.logs.some((l) => l.msg.startsWith('certificate reload failed') && l['listener'] === 'tls'),
      5000,
      'the failed reload to be logged',
    );
    expect(await servedSerial(port)).toBe(renewed.serial);
    expect(broker.server.reloadCertificates()).toContainEqual(
      expect.objectContaining({ listener: 'tls', ok: false, error: expect.stringContaining('certFile') }),
    );
    await TestClient.connect(broker.tlsUrl, { ...v5, ...trusted() });
  });
});

describe('WebSocket Origin allow-list', () => {
  it('admits listed Origins and clients without one; other Origins get HTTP 403 and a log line', async () => {
    const origins = ['https://console.example.com'];
    const broker = await startTlsBroker({
      listeners: { ws: { allowedOrigins: origins }, wss: { allowedOrigins: origins } },
    });
    const ca = pki.read(pki.ca);
    for (const [url, tls] of [
      [broker.wsUrl, {}],
      [broker.wssUrl, { ca }],
    ] as const) {
      expect(await upgrade(url, { ...tls, origin: 'https://console.example.com' })).toBe('open');
      expect(await upgrade(url, { ...tls })).toBe('open');
      expect(await upgrade(url, { ...tls, origin: 'https://evil.example.net' })).toBe('HTTP 403');
    }
    // MQTT.js from a listed origin works end to end.
    const client = await TestClient.connect(broker.wssUrl, {
      ...v5,
      ...trusted(),
      wsOptions: { origin: 'https://console.example.com' },
    });
    await roundTrip(client, client, 'origin/ok');
    expect(broker.logs).toContainEqual(
      expect.objectContaining({ msg: 'websocket origin refused', origin: 'https://evil.example.net' }),
    );
  });
});

describe('connection limits', () => {
  it('mqtt.maxConnections: the connection over the limit is closed on any listener, the others keep working, a freed place is taken again', async () => {
    const broker = await startTlsBroker({ mqtt: { maxConnections: 2 } });
    const first = await TestClient.connect(broker.tlsUrl, { ...v5, ...trusted() });
    const second = await TestClient.connect(broker.tcpUrl, v311);
    await expect(TestClient.connect(broker.wssUrl, { ...v5, ...trusted() })).rejects.toThrow();
    await expect(TestClient.connect(broker.tcpUrl, v5)).rejects.toThrow();
    await roundTrip(first, second, 'limit/global');
    expect(broker.server.rejectedConnections).toEqual({ wss: 1, tcp: 1 });
    expect(broker.logs).toContainEqual(
      expect.objectContaining({ msg: 'connection refused: limit reached', limit: 'mqtt.maxConnections' }),
    );
    await second.disconnect();
    await waitUntil(() => broker.server.broker.clients.size < 2, 3000, 'the broker to see the client leave');
    const third = await TestClient.connect(broker.wssUrl, { ...v5, ...trusted() });
    await roundTrip(third, first, 'limit/again');
  });

  it("a listener's maxConnections limits only that listener", async () => {
    const broker = await startTlsBroker({ listeners: { tls: { maxConnections: 1 } } });
    const first = await TestClient.connect(broker.tlsUrl, { ...v5, ...trusted(), clientId: uniqueId('tls') });
    await expect(TestClient.connect(broker.tlsUrl, { ...v5, ...trusted() })).rejects.toThrow();
    const overTcp = await TestClient.connect(broker.tcpUrl, v5);
    await roundTrip(first, overTcp, 'limit/listener');
    expect(broker.server.rejectedConnections).toEqual({ tls: 1 });
    await first.disconnect();
    await waitUntil(() => broker.server.broker.clients.size < 2, 3000, 'the broker to see the client leave');
    await TestClient.connect(broker.tlsUrl, { ...v5, ...trusted() });
  });
});

describe('TLS configuration', () => {
  it('refuses an enabled TLS listener without certificate and key files, naming the keys', async () => {
    const { loadConfig } = await import('@fluxmq/config');
    expect(() => loadConfig({ env: {}, overrides: { listeners: { tls: { enabled: true } } } })).toThrow(
      /listeners\.tls\.certFile \(FLUXMQ_LISTENERS_TLS_CERT_FILE\) must name a PEM file[\s\S]*listeners\.tls\.keyFile \(FLUXMQ_LISTENERS_TLS_KEY_FILE\) must name/,
    );
    expect(() =>
      loadConfig({
        env: {
          FLUXMQ_LISTENERS_WSS_ENABLED: 'true',
          FLUXMQ_LISTENERS_WSS_CERT_FILE: pki.server.cert,
          FLUXMQ_LISTENERS_WSS_KEY_FILE: pki.server.key,
          FLUXMQ_LISTENERS_WSS_CLIENT_CERTIFICATES: 'required',
        },
      }),
    ).toThrow(
      /listeners\.wss\.caFile \(FLUXMQ_LISTENERS_WSS_CA_FILE\) must name a PEM file when listeners\.wss\.clientCertificates is required/,
    );
    // Off by default: no certificate exists until one is configured.
    const defaults = loadConfig({ env: {} });
    expect([defaults.listeners.tls.enabled, defaults.listeners.wss.enabled]).toEqual([false, false]);
    expect([defaults.listeners.tls.port, defaults.listeners.wss.port]).toEqual([8883, 8084]);
  });

  it('a TLS listener whose files do not load stops the broker from starting, with the reason', async () => {
    await expect(startTlsBroker({ listeners: { tls: { keyFile: pki.client.key } } })).rejects.toThrow(
      /tls listener cannot start: .*do not make a usable certificate/,
    );
  });
});
