import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FluxConfig } from '@fluxmq/config';
import { Broker, SysTopics, type BrokerHooks, type Logger } from '@fluxmq/engine';
import { startListeners } from '@fluxmq/listeners';
import { createJsonLogger } from './logger';

export const VERSION: string = JSON.parse(
  readFileSync(join(__dirname, '..', 'package.json'), 'utf8'),
).version;

export interface BrokerServer {
  readonly broker: Broker;
  readonly config: FluxConfig;
  /** Bound ports by listener name: `tcp`, `ws`. */
  readonly ports: Readonly<Record<string, number>>;
  close(): Promise<void>;
}

export interface BrokerServerOptions {
  logger?: Logger;
  hooks?: BrokerHooks;
}

/**
 * Builds a running broker from a configuration: the engine, its `$SYS` publisher and its listeners. The
 * NestJS app and the tests both start the broker through this one function.
 */
export async function startBrokerServer(
  config: FluxConfig,
  options: BrokerServerOptions = {},
): Promise<BrokerServer> {
  const logger = options.logger ?? createJsonLogger(config.log.level);
  const broker = new Broker({ config: config.mqtt, hooks: options.hooks, logger });
  const sys = config.sys.enabled ? new SysTopics(broker, config.sys.intervalSeconds, VERSION) : undefined;
  let listeners;
  try {
    listeners = await startListeners(broker, config.listeners, config.mqtt.maxPacketSize);
  } catch (err) {
    sys?.stop();
    await broker.close();
    throw err;
  }
  for (const [name, port] of Object.entries(listeners.ports)) {
    const host = name === 'tcp' ? config.listeners.tcp.host : config.listeners.ws.host;
    logger.info('listener started', { listener: name, host, port });
  }
  return {
    broker,
    config,
    ports: listeners.ports,
    async close() {
      sys?.stop();
      await broker.close();
      await listeners.close();
    },
  };
}
