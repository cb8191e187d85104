import { randomUUID } from 'node:crypto';
import type { TelemetryConfig } from '@fluxmq/config';
import { VERSION } from '@fluxmq/server';
import {
  installSpanExporter,
  otlpExportSettings,
  OtlpSpanExporter,
  SpanExportProcessor,
} from '@fluxmq/telemetry';
import {
  detectResources,
  envDetector,
  hostDetector,
  processDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { AlwaysOnSampler } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';

/**
 * Starts tracing before NestJS: FluxMQ's OTLP/HTTP exporter, which message spans are recorded into
 * directly, and the OpenTelemetry Node SDK (context, propagation, and the spans of connect, subscribe, ...)
 * sending its spans through that same exporter. The endpoint comes from `telemetry.tracing.endpoint` or
 * the standard OTEL_EXPORTER_OTLP_* variables, batching from OTEL_BSP_*. The SDK samples everything it is
 * given: the broker decides what to trace before creating spans (see SamplingPolicy). Metrics go to
 * Prometheus through /metrics, so the SDK's own metric and log exporters are off.
 */
export function startOtelSdk(config: TelemetryConfig): (() => Promise<void>) | undefined {
  if (!config.tracing.enabled || process.env['OTEL_SDK_DISABLED']?.trim().toLowerCase() === 'true') {
    return undefined;
  }
  const resource = resourceFromAttributes({
    [ATTR_SERVICE_NAME]: process.env['OTEL_SERVICE_NAME'] ?? 'fluxmq',
    [ATTR_SERVICE_VERSION]: VERSION,
    'service.instance.id': randomUUID(),
  }).merge(detectResources({ detectors: [envDetector, processDetector, hostDetector] }));
  const exporter = new OtlpSpanExporter(otlpExportSettings(process.env, config.tracing.endpoint), resource, {
    name: 'fluxmq',
    version: VERSION,
  });
  installSpanExporter(exporter);
  const sdk = new NodeSDK({
    resource,
    autoDetectResources: false,
    spanProcessors: [new SpanExportProcessor(exporter)],
    sampler: new AlwaysOnSampler(),
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [],
  });
  sdk.start();
  return () => sdk.shutdown();
}
