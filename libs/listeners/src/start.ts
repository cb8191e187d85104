import type { Server } from 'node:net';
import type { ListenersConfig } from '@fluxmq/config';
import type { Broker } from '@fluxmq/engine';
import type { CertificateReload, CertificateWatcherOptions } from './certificates';
import { ConnectionGate } from './limits';
import { createTcpServer } from './tcp';
import { createTlsServer, type Listener } from './tls';
import { createWebSocketServer } from './websocket';

export interface RunningListeners {
  /** Bound ports by listener name (a configured port 0 becomes the one the OS picked). */
  readonly ports: Record<string, number>;
  /** Connections refused by a `maxConnections` limit (the listener's or `mqtt.maxConnections`), by listener. */
  readonly rejected: Readonly<Record<string, number>>;
  /**
   * Re-reads the certificate files of every TLS listener now (they are also watched); a listener whose new
   * files do not load keeps serving its current certificate.
   */
  reload(): CertificateReload[];
  close(): Promise<void>;
}

export interface StartListenersOptions {
  /** How the TLS listeners watch their certificate files (tests shorten the polling). */
  watch?: CertificateWatcherOptions;
}

function listen(server: Server, name: string, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) =>
      reject(new Error(`${name} listener cannot listen on ${host}:${port}: ${err.message}`));
    server.once('error', onError);
    // Node's default backlog (511) overflows when a few thousand clients reconnect at once after an outage;
    // the kernel then retries their handshakes after 1, 3, 7 s. The kernel caps it at somaxconn anyway.
    server.listen({ port, host, backlog: 4096 }, () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

/** Opens every enabled listener; if one cannot start, closes the others and fails with the reason. */
export async function startListeners(
  broker: Broker,
  config: ListenersConfig,
  maxPacketSize: number,
  options: StartListenersOptions = {},
): Promise<RunningListeners> {
  const gate = new ConnectionGate(broker);
  const listeners: Listener[] = [];
  const ports: Record<string, number> = {};
  const close = async (): Promise<void> => {
    await Promise.all(
      listeners.map(({ server, certificates }) => {
        certificates?.close();
        return new Promise<void>((resolve) => server.close(() => resolve()));
      }),
    );
  };
  const open = async (name: keyof ListenersConfig, create: () => Listener): Promise<void> => {
    const settings = config[name];
    if (!settings.enabled) return;
    let listener: Listener;
    try {
      listener = create();
    } catch (err) {
      throw new Error(`${name} listener cannot start: ${(err as Error).message}`, { cause: err });
    }
    listeners.push(listener);
    gate.limit(listener.server, name, settings.maxConnections);
    ports[name] = await listen(listener.server, name, settings.host, settings.port);
  };
  try {
    await open('tcp', () => ({ server: createTcpServer(broker, 'tcp', gate), certificates: undefined }));
    await open('ws', () =>
      createWebSocketServer(broker, {
        name: 'ws',
        path: config.ws.path,
        allowedOrigins: config.ws.allowedOrigins,
        maxPacketSize,
        gate,
      }),
    );
    await open('tls', () =>
      createTlsServer(broker, { ...config.tls, name: 'tls', gate, watch: options.watch }),
    );
    await open('wss', () =>
      createWebSocketServer(broker, {
        name: 'wss',
        path: config.wss.path,
        allowedOrigins: config.wss.allowedOrigins,
        maxPacketSize,
        tls: config.wss,
        watch: options.watch,
        gate,
      }),
    );
  } catch (err) {
    await close();
    throw err;
  }
  return {
    ports,
    rejected: gate.rejected,
    reload: () => listeners.flatMap(({ certificates }) => (certificates ? [certificates.reload()] : [])),
    close,
  };
}
