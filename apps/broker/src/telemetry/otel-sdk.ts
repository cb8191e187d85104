import { randomUUID } from 'node:crypto';
import type { TelemetryConfig } from '@fluxmq/config';
import { VERSION } from '@fluxmq/server';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { AlwaysOnSampler } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';

/**
 * Starts the OpenTelemetry Node SDK before NestJS, exporting spans over OTLP/HTTP. The endpoint comes
 * from `telemetry.tracing.endpoint` or the standard OTEL_EXPORTER_OTLP_* variables. The SDK samples
 * everything it is given: the broker decides what to trace before creating spans (see SamplingPolicy).
 * Metrics go to Prometheus through /metrics, so the SDK's own metric and log exporters are off.
 */
export function startOtelSdk(config: TelemetryConfig): (() => Promise<void>) | undefined {
  if (!config.tracing.enabled) return undefined;
  const endpoint = config.tracing.endpoint.replace(/\/+$/, '');
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: process.env['OTEL_SERVICE_NAME'] ?? 'fluxmq',
      [ATTR_SERVICE_VERSION]: VERSION,
      'service.instance.id': randomUUID(),
    }),
    traceExporter: new OTLPTraceExporter(endpoint ? { url: `${endpoint}/v1/traces` } : {}),
    sampler: new AlwaysOnSampler(),
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [],
  });
  sdk.start();
  return () => sdk.shutdown();
}
