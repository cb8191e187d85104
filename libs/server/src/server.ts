import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FluxConfig, ListenersConfig } from '@fluxmq/config';
import { Broker, combineObservers, SysTopics, type BrokerHooks, type Logger } from '@fluxmq/engine';
import { startListeners, type CertificateReload } from '@fluxmq/listeners';
import {
  LatencyHistogram,
  latencyObserver,
  OtelTracing,
  registerBrokerMetrics,
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
  const hooks: BrokerHooks = {
    ...options.hooks,
    observer: combineObservers(
      options.hooks?.observer,
      latency && latencyObserver(latency),
      tracing?.observer,
    ),
    tracer: tracing,
  };
  const broker = new Broker({ config: config.mqtt, hooks, logger });
  let metrics: MetricsRegistries | undefined;
  if (latency) {
    const openMetrics = new Registry<OpenMetricsContentType>();
    openMetrics.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    metrics = { prometheus: new Registry(), openMetrics };
    registerBrokerMetrics(metrics.prometheus, broker, latency, VERSION);
    registerBrokerMetrics(metrics.openMetrics, broker, latency, VERSION);
  }
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
    async close() {
      sys?.stop();
      await broker.close();
      await listeners.close();
    },
  };
}
