export { LatencyHistogram, LATENCY_BUCKETS } from './latency';
export { latencyObserver, registerBrokerMetrics } from './metrics';
export { decodeTraceExport, type DecodedSpan, type DecodedTraceExport, type KeyValue } from './otlp/decode';
export { otlpExportSettings, type OtlpExportSettings } from './otlp/settings';
export { SpanExportProcessor } from './otlp/sdk-span-processor';
export {
  installedSpanExporter,
  installSpanExporter,
  OtlpSpanExporter,
  type ExportResource,
  type SpanExportStats,
} from './otlp/span-exporter';
export { SamplingPolicy } from './sampling';
export { registerStoreMetrics, type StoreMetricsSource } from './store-metrics';
export { extractTraceContext, formatTraceparent } from './trace-context';
export { OtelTracing } from './tracer';
