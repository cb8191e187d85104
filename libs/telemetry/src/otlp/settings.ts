import type { BatchSettings } from './span-batcher';
import type { HttpTransportSettings } from './http-transport';

export interface OtlpExportSettings extends HttpTransportSettings {
  readonly batch: BatchSettings;
  /** OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL when it asks for another protocol than http/protobuf. */
  readonly unsupportedProtocol?: string;
  /** TLS files given for an endpoint that is not https: they cannot apply, which is worth a warning. */
  readonly ignoredTlsFiles: readonly string[];
}

/** The one OTLP protocol FluxMQ's exporter speaks: the specification's default, which every backend takes. */
export const OTLP_PROTOCOL = 'http/protobuf';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Export settings from the standard OpenTelemetry variables, as the SDK's OTLP/HTTP exporter and batch
 * span processor read them. `configuredEndpoint` (telemetry.tracing.endpoint), when set, is the base URL
 * and wins over OTEL_EXPORTER_OTLP_*_ENDPOINT. The queue and batch sizes default to four times the SDK's
 * (8192 and 2048): a broker makes spans far faster than the services those were chosen for, and under load
 * its event loop turns only every few milliseconds, so each batch must carry more.
 */
export function otlpExportSettings(env: Env, configuredEndpoint = ''): OtlpExportSettings {
  const maxQueueSize = positiveInteger(env['OTEL_BSP_MAX_QUEUE_SIZE'], 8192);
  const protocol = (env['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'] ?? env['OTEL_EXPORTER_OTLP_PROTOCOL'])?.trim();
  const url = tracesUrl(env, configuredEndpoint);
  const tls = {
    caFile: tracesVariable(env, 'CERTIFICATE'),
    certFile: tracesVariable(env, 'CLIENT_CERTIFICATE'),
    keyFile: tracesVariable(env, 'CLIENT_KEY'),
  };
  return {
    unsupportedProtocol: protocol && protocol !== OTLP_PROTOCOL ? protocol : undefined,
    ignoredTlsFiles: /^https:/i.test(url)
      ? []
      : [tls.caFile, tls.certFile, tls.keyFile].filter((file) => file !== undefined),
    url,
    headers: {
      ...keyValuePairs(env['OTEL_EXPORTER_OTLP_HEADERS']),
      ...keyValuePairs(env['OTEL_EXPORTER_OTLP_TRACES_HEADERS']),
    },
    timeoutMs: positiveInteger(
      env['OTEL_EXPORTER_OTLP_TRACES_TIMEOUT'] ?? env['OTEL_EXPORTER_OTLP_TIMEOUT'],
      10_000,
    ),
    tls,
    compression:
      (env['OTEL_EXPORTER_OTLP_TRACES_COMPRESSION'] ?? env['OTEL_EXPORTER_OTLP_COMPRESSION'])?.trim() ===
      'gzip'
        ? 'gzip'
        : 'none',
    batch: {
      maxQueueSize,
      maxExportBatchSize: Math.min(
        positiveInteger(env['OTEL_BSP_MAX_EXPORT_BATCH_SIZE'], 2048),
        maxQueueSize,
      ),
      scheduleDelayMs: positiveInteger(env['OTEL_BSP_SCHEDULE_DELAY'], 5000),
      // As OpenTelemetry's own exporters: about 1, 2 and 4 seconds, so a collector may be away ~7 s.
      retryDelaysMs: [1000, 2000, 4000],
    },
  };
}

/** OTEL_EXPORTER_OTLP_TRACES_<name>, else OTEL_EXPORTER_OTLP_<name>; blank is unset. */
function tracesVariable(env: Env, name: string): string | undefined {
  return (
    env[`OTEL_EXPORTER_OTLP_TRACES_${name}`]?.trim() || env[`OTEL_EXPORTER_OTLP_${name}`]?.trim() || undefined
  );
}

function tracesUrl(env: Env, configuredEndpoint: string): string {
  const base = (url: string) => `${url.trim().replace(/\/+$/, '')}/v1/traces`;
  if (configuredEndpoint.trim()) return base(configuredEndpoint);
  const traces = env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']?.trim();
  if (traces) return traces;
  const all = env['OTEL_EXPORTER_OTLP_ENDPOINT']?.trim();
  return base(all || 'http://localhost:4318');
}

/** `key1=value1,key2=value2` with URL-encoded values, as OTEL_EXPORTER_OTLP_HEADERS is written. */
function keyValuePairs(raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of raw?.split(',') ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const key = pair.slice(0, eq).trim();
    if (key) out[key] = urlDecoded(pair.slice(eq + 1).trim());
  }
  return out;
}

function urlDecoded(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value; // not URL-encoded after all (a stray %): taken as written
  }
}

function positiveInteger(raw: string | undefined, fallback: number): number {
  const n = Number(raw);
  return raw?.trim() && Number.isInteger(n) && n > 0 ? n : fallback;
}
