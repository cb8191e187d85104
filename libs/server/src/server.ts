import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BrokerAuth } from '@fluxmq/auth';
import type { FluxConfig, ListenersConfig } from '@fluxmq/config';
import { Broker, combineObservers, SysTopics, type BrokerHooks, type Logger } from '@fluxmq/engine';
import { startListeners, type CertificateReload } from '@fluxmq/listeners';
import { loadAclRules, loadUsers, openPersistence, type Persistence } from '@fluxmq/persistence';
import {
  LatencyHistogram,
  latencyObserver,
  OtelTracing,
  registerBrokerMetrics,
  registerStoreMetrics,
  SamplingPolicy,
} from '@fluxmq/telemetry';
import { trace } from '@opentelemetry/api';
import { Registry, type OpenMetricsContentType } from 'prom-client';
import { createJsonLogger } from './logger';

export const VERSION: string = JSON.parse(
  readFileSync(join(__dirname, '..', 'package.json'), 'utf8'),
).version;

/** The same metrics in both exposition formats: exemplars exist only in OpenMetrics. */
export interface MetricsRegistries {
  prometheus: Registry;
  openMetrics: Registry<OpenMetricsContentType>;
}

export interface BrokerServer {
  readonly broker: Broker;
  readonly config: FluxConfig;
  /** Bound ports by listener name: `tcp`, `ws`, `tls`, `wss`. */
  readonly ports: Readonly<Record<string, number>>;
  /** Connections refused by `mqtt.maxConnections` or a listener's `maxConnections`, by listener name. */
  readonly rejectedConnections: Readonly<Record<string, number>>;
  /** Re-reads the TLS listeners' certificate files now (they are also watched); invalid ones are not used. */
  reloadCertificates(): CertificateReload[];
  /** Present when `telemetry.metrics.enabled`. */
  readonly metrics: MetricsRegistries | undefined;
  /** Present when `telemetry.tracing.enabled`; `update` changes sampling at run time. */
  readonly sampling: SamplingPolicy | undefined;
  /** Present when `persistence.enabled`: the SQLite database (TypeORM) and the engine's stores. */
  readonly persistence: Persistence | undefined;
  /** Present when `auth.enabled`: `setUsers`/`setRules` replace users and ACL rules at run time. */
  readonly auth: BrokerAuth | undefined;
  close(): Promise<void>;
}

export interface BrokerServerOptions {
  logger?: Logger;
  hooks?: BrokerHooks;
}

/**
 * Builds a running broker from a configuration: the engine with its telemetry, its `$SYS` publisher and
 * its listeners. The NestJS app and the tests both start the broker through this one function. Tracing
 * uses the globally registered OpenTelemetry tracer provider (the app starts the SDK before this).
 */
export async function startBrokerServer(
  config: FluxConfig,
  options: BrokerServerOptions = {},
): Promise<BrokerServer> {
  const logger = options.logger ?? createJsonLogger(config.log.level);
  const { metrics: metricsConfig, tracing: tracingConfig } = config.telemetry;
  const latency = metricsConfig.enabled ? new LatencyHistogram() : undefined;
  const sampling = tracingConfig.enabled ? new SamplingPolicy(tracingConfig) : undefined;
  const tracing = sampling ? new OtelTracing(trace.getTracer('fluxmq', VERSION), sampling) : undefined;
  const given = options.hooks;
  const auth =
    config.auth.enabled && !(given?.authenticator && given.authorizer)
      ? new BrokerAuth(config.auth, logger)
      : undefined;
  const hooks: BrokerHooks = {
    ...options.hooks,
    authenticator: given?.authenticator ?? auth,
    authorizer: given?.authorizer ?? auth,
    observer: combineObservers(options.hooks?.observer, auth?.observer, latency && latencyObserver(latency)),
    tracer: tracing,
  };
  const persistence = config.persistence.enabled
    ? await openPersistence(config.persistence, logger)
    : undefined;
  const broker = new Broker({
    config: config.mqtt,
    hooks,
    logger,
    store: persistence?.sessions,
    retained: persistence?.retained,
  });
  let metrics: MetricsRegistries | undefined;
  if (latency) {
    const openMetrics = new Registry<OpenMetricsContentType>();
    openMetrics.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    metrics = { prometheus: new Registry(), openMetrics };
    registerBrokerMetrics(metrics.prometheus, broker, latency, VERSION);
    registerBrokerMetrics(metrics.openMetrics, broker, latency, VERSION);
    if (persistence) registerStoreMetrics([metrics.prometheus, metrics.openMetrics], persistence.sessions);
  }
  const sys = config.sys.enabled ? new SysTopics(broker, config.sys.intervalSeconds, VERSION) : undefined;
  let listeners;
  try {
    if (persistence) {
      await persistence.restore(broker);
      // Users and rules created through the admin API, next to those of the configuration file.
      auth?.setUsers(await loadUsers(persistence.dataSource));
      auth?.setRules(await loadAclRules(persistence.dataSource));
    }
    listeners = await startListeners(broker, config.listeners, config.mqtt.maxPacketSize);
  } catch (err) {
    sys?.stop();
    await broker.close();
    await persistence?.close();
    throw err;
  }
  for (const [name, port] of Object.entries(listeners.ports)) {
    const host = config.listeners[name as keyof ListenersConfig].host;
    logger.info('listener started', { listener: name, host, port });
  }
  return {
    broker,
    config,
    ports: listeners.ports,
    rejectedConnections: listeners.rejected,
    reloadCertificates: () => listeners.reload(),
    metrics,
    sampling,
    persistence,
    auth,
    async close() {
      sys?.stop();
      await broker.close();
      await listeners.close();
      // Last: the disconnects above still record when each persistent session went offline.
      await persistence?.close();
    },
  };
}
