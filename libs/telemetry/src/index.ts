export { LatencyHistogram, LATENCY_BUCKETS } from './latency';
export { latencyObserver, registerBrokerMetrics } from './metrics';
export { SamplingPolicy } from './sampling';
export { registerStoreMetrics, type StoreMetricsSource } from './store-metrics';
export { extractTraceContext, formatTraceparent } from './trace-context';
export { OtelTracing } from './tracer';
