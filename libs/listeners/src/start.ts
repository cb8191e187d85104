import type { Server } from 'node:net';
import type { ListenersConfig } from '@fluxmq/config';
import type { Broker } from '@fluxmq/engine';
import { createTcpServer } from './tcp';
import { createWebSocketServer } from './websocket';

export interface RunningListeners {
  /** Bound ports by listener name (a configured port 0 becomes the one the OS picked). */
  readonly ports: Record<string, number>;
  close(): Promise<void>;
}

function listen(server: Server, name: string, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) =>
      reject(new Error(`${name} listener cannot listen on ${host}:${port}: ${err.message}`));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

/** Opens every enabled listener; if one cannot bind, closes the others and fails with the reason. */
export async function startListeners(
  broker: Broker,
  config: ListenersConfig,
  maxPacketSize: number,
): Promise<RunningListeners> {
  const servers: Server[] = [];
  const ports: Record<string, number> = {};
  const close = async (): Promise<void> => {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  };
  try {
    if (config.tcp.enabled) {
      const server = createTcpServer(broker);
      servers.push(server);
      ports['tcp'] = await listen(server, 'tcp', config.tcp.host, config.tcp.port);
    }
    if (config.ws.enabled) {
      const server = createWebSocketServer(broker, { path: config.ws.path, maxPacketSize });
      servers.push(server);
      ports['ws'] = await listen(server, 'ws', config.ws.host, config.ws.port);
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { ports, close };
}
