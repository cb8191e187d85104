import { randomUUID } from 'node:crypto';
import type { TelemetryConfig } from '@fluxmq/config';
import type { Logger } from '@fluxmq/engine';
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
 * Starts tracing before NestJS: FluxMQ's OTLP/HTTP protobuf exporter, which message spans are encoded into
 * directly, and the OpenTelemetry Node SDK (context, propagation, and the spans of connect, subscribe, ...)
 * sending its spans through that same exporter. The endpoint comes from `telemetry.tracing.endpoint` or
 * the standard OTEL_EXPORTER_OTLP_* variables, batching from OTEL_BSP_*. The SDK samples everything it is
 * given: the broker decides what to trace before creating spans (see SamplingPolicy). Metrics go to
 * Prometheus through /metrics, so the SDK's own metric and log exporters are off.
 */
export function startOtelSdk(config: TelemetryConfig, logger: Logger): (() => Promise<void>) | undefined {
  if (!config.tracing.enabled || process.env['OTEL_SDK_DISABLED']?.trim().toLowerCase() === 'true') {
    return undefined;
  }
  const resource = resourceFromAttributes({
    [ATTR_SERVICE_NAME]: process.env['OTEL_SERVICE_NAME'] ?? 'fluxmq',
    [ATTR_SERVICE_VERSION]: VERSION,
    'service.instance.id': randomUUID(),
  }).merge(detectResources({ detectors: [envDetector, processDetector, hostDetector] }));
  const settings = otlpExportSettings(process.env, config.tracing.endpoint);
  if (settings.unsupportedProtocol !== undefined) {
    logger.warn('OTLP protocol not supported, exporting with http/protobuf instead', {
      requested: settings.unsupportedProtocol,
      endpoint: settings.url,
    });
  }
  if (settings.ignoredTlsFiles.length > 0) {
    logger.warn('OTLP TLS files ignored: the endpoint is not https', {
      endpoint: settings.url,
      files: settings.ignoredTlsFiles,
    });
  }
  const exporter = new OtlpSpanExporter(
    settings,
    resource,
    { name: 'fluxmq', version: VERSION },
    exportFailureLog(logger, settings.url),
  );
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

/**
 * Logs failed exports, the first at once and then at most one line a minute (with the spans lost since):
 * a collector that is down for an hour must not flood the log. Every failure is also counted in
 * fluxmq_trace_spans_dropped_total{reason="export_failed"}.
 */
function exportFailureLog(logger: Logger, endpoint: string): (error: Error, spans: number) => void {
  let lastLoggedAt = -Infinity;
  let spansLost = 0;
  return (error, spans) => {
    spansLost += spans;
    const now = Date.now();
    if (now - lastLoggedAt < 60_000) return;
    logger.warn('trace export failed', { endpoint, error: error.message, spans_lost: spansLost });
    lastLoggedAt = now;
    spansLost = 0;
  };
}
