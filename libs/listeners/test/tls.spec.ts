import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultConfig, type ListenersConfig } from '@fluxmq/config';
import { Broker, type ConnectRequest, type Logger } from '@fluxmq/engine';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { parseSubjectAltNames, startListeners, type RunningListeners } from '../src';
import { createPki, type Pki } from './certificates';
import { connectPacket, CONNACK_ACCEPTED, mqttOverTls, nextData, PINGREQ, PINGRESP } from './mqtt';

type TlsOverrides = Partial<ListenersConfig['tls']>;

const CLIENT_IDENTITY = {
  subject: 'O=Acme\nCN=sensor-17',
  commonName: 'sensor-17',
  subjectAltNames: ['DNS:sensor-17.local', 'email:ops@acme.test', 'URI:spiffe://acme/sensor-17'],
};

describe('TLS listeners', () => {
  let pki: Pki;
  let broker: Broker | undefined;
  let listeners: RunningListeners | undefined;
  let requests: ConnectRequest[];
  let logs: { level: string; msg: string; fields?: Record<string, unknown> }[];

  beforeAll(() => {
    pki = createPki();
  });
  afterAll(() => pki.remove());
  afterEach(async () => {
    await broker?.close();
    await listeners?.close();
    broker = undefined;
    listeners = undefined;
  });

  /** A broker whose authenticator records each ConnectRequest, with `tls` and `wss` on loopback. */
  async function start(tls: TlsOverrides = {}, wss: TlsOverrides = {}): Promise<RunningListeners> {
    const config = defaultConfig();
    requests = [];
    logs = [];
    const record =
      (level: string) =>
      (msg: string, fields?: Record<string, unknown>): void => {
        logs.push({ level, msg, fields });
      };
    const logger: Logger = {
      debug: record('debug'),
      info: record('info'),
      warn: record('warn'),
      error: record('error'),
    };
    broker = new Broker({
      config: config.mqtt,
      logger,
      hooks: { authenticator: { authenticate: (request) => (requests.push(request), { ok: true }) } },
    });
    const files = { certFile: pki.server.cert, keyFile: pki.server.key, caFile: pki.ca };
    const loopback = { enabled: true, host: '127.0.0.1', port: 0 };
    listeners = await startListeners(
      broker,
      {
        tcp: { ...config.listeners.tcp, enabled: false },
        ws: { ...config.listeners.ws, enabled: false },
        tls: { ...config.listeners.tls, ...loopback, ...files, ...tls },
        wss: { ...config.listeners.wss, ...loopback, ...files, ...wss },
      },
      config.mqtt.maxPacketSize,
      // Polled fast so the reload tests take a fraction of a second.
      { watch: { pollIntervalMs: 50, debounceMs: 50 } },
    );
    return listeners;
  }

  const trusted = () => ({ ca: pki.read(pki.ca) });
  const withClient = () => ({ ...trusted(), cert: pki.read(pki.client.cert), key: pki.read(pki.client.key) });
  const withRogue = () => ({ ...trusted(), cert: pki.read(pki.rogue.cert), key: pki.read(pki.rogue.key) });

  /** CONNECT over wss://; resolves with CONNACK, rejects when the connection is refused. */
  function mqttOverWss(port: number, options: WebSocket.ClientOptions): Promise<Buffer> {
    const ws = new WebSocket(`wss://127.0.0.1:${port}/mqtt`, ['mqtt'], options);
    return new Promise<Buffer>((resolve, reject) => {
      ws.once('open', () => ws.send(connectPacket('over-wss')));
      ws.once('message', (data: Buffer) => resolve(data));
      ws.once('error', reject);
      ws.once('close', () => reject(new Error('closed')));
    }).finally(() => ws.terminate());
  }

  it('serves MQTT over TLS with the configured certificate', async () => {
    const { ports } = await start();
    const { socket, connack } = await mqttOverTls(ports['tls'], 'plain', trusted());
    expect([...connack]).toEqual(CONNACK_ACCEPTED);
    expect(socket.getPeerCertificate().serialNumber).toBe(pki.server.serial);
    expect(requests[0]).toMatchObject({ listener: 'tls', clientId: 'plain' });
    expect(requests[0].certificate).toBeUndefined();
    socket.destroy();
  });

  it('hands a verified client certificate (CN and SANs) to the authenticator, over TLS and wss', async () => {
    const { ports } = await start({ clientCertificates: 'required' }, { clientCertificates: 'optional' });
    const { socket, connack } = await mqttOverTls(ports['tls'], 'sensor', withClient());
    expect([...connack]).toEqual(CONNACK_ACCEPTED);
    socket.destroy();
    expect([...(await mqttOverWss(ports['wss'], withClient()))]).toEqual(CONNACK_ACCEPTED);
    expect(requests.map((r) => [r.listener, r.certificate])).toEqual([
      ['tls', CLIENT_IDENTITY],
      ['wss', CLIENT_IDENTITY],
    ]);
  });

  it('required: refuses a client without a certificate and one with a self-signed look-alike', async () => {
    const { ports } = await start({ clientCertificates: 'required' }, { clientCertificates: 'required' });
    // OpenSSL itself refuses a missing certificate, during the handshake (TLS 1.3 alert 116).
    await expect(mqttOverTls(ports['tls'], 'none', trusted())).rejects.toThrow(/certificate required/);
    await expect(mqttOverTls(ports['tls'], 'rogue', withRogue())).rejects.toThrow();
    await expect(mqttOverWss(ports['wss'], trusted())).rejects.toThrow();
    await expect(mqttOverWss(ports['wss'], withRogue())).rejects.toThrow();
    expect(requests).toEqual([]);
  });

  it('optional: admits a client without a certificate (no identity) but refuses an unverified one', async () => {
    const { ports } = await start({ clientCertificates: 'optional' }, { clientCertificates: 'optional' });
    const { socket, connack } = await mqttOverTls(ports['tls'], 'anonymous', trusted());
    expect([...connack]).toEqual(CONNACK_ACCEPTED);
    socket.destroy();
    expect([...(await mqttOverWss(ports['wss'], trusted()))]).toEqual(CONNACK_ACCEPTED);
    await expect(mqttOverTls(ports['tls'], 'rogue', withRogue())).rejects.toThrow();
    await expect(mqttOverWss(ports['wss'], withRogue())).rejects.toThrow();
    expect(requests.map((r) => [r.listener, r.certificate])).toEqual([
      ['tls', undefined],
      ['wss', undefined],
    ]);
    expect(logs.some((l) => l.msg === 'client certificate refused')).toBe(true);
  });

  it('serves a certificate replaced on disk to new connections, keeps existing ones, ignores a broken one', async () => {
    // Its own copies: the replacement must not disturb the files other tests use.
    const certFile = join(pki.dir, 'reload.crt');
    const keyFile = join(pki.dir, 'reload.key');
    writeFileSync(certFile, pki.read(pki.server.cert));
    writeFileSync(keyFile, pki.read(pki.server.key));
    const running = await start({ certFile, keyFile });
    const port = running.ports['tls'];
    const existing = await mqttOverTls(port, 'existing', trusted());

    const next = pki.issueServer('renewed');
    pki.replace(keyFile, pki.read(next.key));
    pki.replace(certFile, pki.read(next.cert));
    await expect
      .poll(
        async () => {
          const { socket } = await mqttOverTls(port, 'probe', trusted());
          const serial = socket.getPeerCertificate().serialNumber;
          socket.destroy();
          return serial;
        },
        { timeout: 3000 },
      )
      .toBe(next.serial);
    existing.socket.write(PINGREQ);
    expect([...(await nextData(existing.socket))]).toEqual(PINGRESP);

    logs.length = 0;
    pki.replace(
      certFile,
      '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n',
    );
    await expect
      .poll(() => logs.find((l) => l.msg.startsWith('certificate reload failed'))?.fields?.['error'], {
        timeout: 3000,
      })
      .toMatch(/listeners\.tls\.certFile .*cannot be parsed/);
    const after = await mqttOverTls(port, 'after', trusted());
    expect(after.socket.getPeerCertificate().serialNumber).toBe(next.serial);
    after.socket.destroy();
    expect(running.reload()).toEqual([
      expect.objectContaining({ listener: 'tls', ok: false, error: expect.stringContaining('certFile') }),
      { listener: 'wss', ok: true, changed: false },
    ]);
    existing.socket.destroy();
  });

  it('does not start with a key that does not belong to the certificate, naming the files', async () => {
    await expect(start({ keyFile: pki.client.key })).rejects.toThrow(
      /tls listener cannot start: listeners\.tls: certFile .* and keyFile .* do not make a usable certificate/,
    );
    await expect(start({}, { caFile: pki.client.key })).rejects.toThrow(/listeners\.wss\.caFile .* no PEM/);
  });
});

describe('parseSubjectAltNames', () => {
  it("splits Node's subjectaltname text, undoing its JSON quoting", () => {
    expect(parseSubjectAltNames('DNS:a.test, URI:"http://x/a,b", IP Address:127.0.0.1')).toEqual([
      'DNS:a.test',
      'URI:http://x/a,b',
      'IP Address:127.0.0.1',
    ]);
    expect(parseSubjectAltNames(undefined)).toEqual([]);
  });
});
