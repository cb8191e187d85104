import { z } from 'zod';

// The single source of truth for FluxMQ's configuration: the broker validates files and FLUXMQ_* variables
// against it, the admin API will serve it as JSON Schema, and the console will build its form from it.

const port = z.number().int().min(0).max(65535);
const seconds = z.number().int().min(0).max(0xffffffff);

const listener = (defaults: { port: number; enabled: boolean }) => ({
  enabled: z.boolean().default(defaults.enabled).describe('Whether this listener accepts connections'),
  host: z.string().min(1).default('0.0.0.0').describe('Interface address to bind'),
  port: port.default(defaults.port).describe('TCP port; 0 picks a free one'),
  maxConnections: z
    .number()
    .int()
    .min(0)
    .default(0)
    .describe(
      'Connections this listener holds at once; more are closed at accept and counted; 0 = unlimited',
    ),
});

const websocket = {
  path: z.string().startsWith('/').default('/mqtt').describe('HTTP path of the WebSocket endpoint'),
  allowedOrigins: z
    .array(z.string().min(1))
    .default([])
    .describe(
      'Origin headers (scheme://host[:port]) allowed to upgrade, others get HTTP 403; requests without ' +
        'Origin (non-browser clients) always pass; empty = any (comma-separated in env)',
    ),
};

const tls = {
  certFile: z
    .string()
    .default('')
    .describe('PEM server certificate (chain); required when enabled; reloaded when the file changes'),
  keyFile: z
    .string()
    .default('')
    .describe('PEM private key of the certificate; required when enabled; reloaded when the file changes'),
  caFile: z
    .string()
    .default('')
    .describe(
      'PEM CA certificates that sign client certificates; required unless clientCertificates is none',
    ),
  clientCertificates: z
    .enum(['none', 'optional', 'required'])
    .default('none')
    .describe(
      'mTLS: none = not asked for; optional = a client may present one (verified against caFile); ' +
        'required = connections without a valid one are refused',
    ),
};

/** An enabled TLS listener cannot start without its files: say which key is missing, not just "invalid". */
function requireTlsFiles(
  name: string,
  value: { enabled: boolean; certFile: string; keyFile: string; caFile: string; clientCertificates: string },
  ctx: z.RefinementCtx,
): void {
  if (!value.enabled) return;
  const missing = (key: 'certFile' | 'keyFile' | 'caFile', why: string): void => {
    // The variable too: configured through FLUXMQ_*, that is the name the operator typed.
    const variable = `FLUXMQ_LISTENERS_${name}_${key.replace('File', '_FILE')}`.toUpperCase();
    const message = `listeners.${name}.${key} (${variable}) must name a PEM file ${why}`;
    ctx.addIssue({ code: 'custom', path: [key], message });
  };
  if (!value.certFile) missing('certFile', `when listeners.${name}.enabled is true`);
  if (!value.keyFile) missing('keyFile', `when listeners.${name}.enabled is true`);
  if (value.clientCertificates !== 'none' && !value.caFile) {
    missing('caFile', `when listeners.${name}.clientCertificates is ${value.clientCertificates}`);
  }
}

export const listenersSchema = z.object({
  tcp: z
    .object(listener({ port: 1883, enabled: true }))
    .prefault({})
    .describe('MQTT over plain TCP'),
  ws: z
    .object({ ...listener({ port: 8083, enabled: true }), ...websocket })
    .prefault({})
    .describe('MQTT over WebSocket (subprotocols mqtt, mqttv3.1)'),
  tls: z
    .object({ ...listener({ port: 8883, enabled: false }), ...tls })
    .superRefine((value, ctx) => requireTlsFiles('tls', value, ctx))
    .prefault({})
    .describe('MQTT over TLS'),
  wss: z
    .object({ ...listener({ port: 8084, enabled: false }), ...websocket, ...tls })
    .superRefine((value, ctx) => requireTlsFiles('wss', value, ctx))
    .prefault({})
    .describe('MQTT over secure WebSocket (TLS)'),
});

export const mqttSchema = z.object({
  maxPacketSize: z
    .number()
    .int()
    .min(64)
    .max(268435455)
    .default(1048576)
    .describe('Largest packet accepted from a client, in bytes (advertised as Maximum Packet Size in 5.0)'),
  maxClientIdLength: z.number().int().min(1).max(65535).default(256).describe('Longest client id accepted'),
  maxTopicLength: z
    .number()
    .int()
    .min(1)
    .max(65535)
    .default(65535)
    .describe('Longest topic or filter, in bytes'),
  maxTopicLevels: z
    .number()
    .int()
    .min(1)
    .max(65535)
    .default(128)
    .describe('Most levels in a topic or filter'),
  connectTimeoutMs: z
    .number()
    .int()
    .min(100)
    .default(10000)
    .describe('A socket that sends no CONNECT within this time is closed'),
  maxKeepAlive: z
    .number()
    .int()
    .min(0)
    .max(65535)
    .default(0)
    .describe('Upper bound on client keep alive in seconds, sent as Server Keep Alive in 5.0; 0 = no bound'),
  receiveMaximum: z
    .number()
    .int()
    .min(1)
    .max(65535)
    .default(256)
    .describe('Unacknowledged QoS 1/2 publishes a client may have in flight towards the broker'),
  maxInflight: z
    .number()
    .int()
    .min(1)
    .max(65535)
    .default(64)
    .describe('Unacknowledged QoS 1/2 messages the broker keeps in flight to one client'),
  maxQueuedMessages: z
    .number()
    .int()
    .min(0)
    .default(1000)
    .describe('Messages queued per session while offline or beyond the inflight window'),
  queueOverflow: z
    .enum(['drop-oldest', 'drop-new'])
    .default('drop-oldest')
    .describe('Which message a full session queue drops'),
  queueQos0: z.boolean().default(false).describe('Also queue QoS 0 messages for offline persistent sessions'),
  maxOutboundBytes: z
    .number()
    .int()
    // Above the socket's own high-water mark (64 KiB on Node 22), so a backlogged socket always emits
    // 'drain' and the queue behind it moves again.
    .min(131072)
    .default(1048576)
    .describe('Bytes buffered for one socket before QoS 0 is dropped and QoS 1/2 waits in the queue'),
  maxQos: z
    .union([z.literal(0), z.literal(1), z.literal(2)])
    .default(2)
    .describe('Highest QoS granted; publishes above it are refused (5.0) and subscriptions downgraded'),
  retainAvailable: z.boolean().default(true).describe('Whether retained messages are supported'),
  wildcardSubscriptionAvailable: z.boolean().default(true).describe('Whether + and # may be used in filters'),
  sharedSubscriptionAvailable: z
    .boolean()
    .default(true)
    .describe('Whether $share/{group}/{filter} is supported'),
  subscriptionIdentifiersAvailable: z
    .boolean()
    .default(true)
    .describe('Whether Subscription Identifiers work'),
  topicAliasMaximum: z
    .number()
    .int()
    .min(0)
    .max(65535)
    .default(64)
    .describe('Topic aliases a 5.0 client may set towards the broker'),
  maxSessionExpiryInterval: seconds
    .default(0xffffffff)
    .describe('Cap on Session Expiry Interval in seconds (4294967295 = never expire)'),
  maxConnections: z
    .number()
    .int()
    .min(0)
    .default(0)
    .describe(
      'Connections the broker holds at once over all listeners; more are closed at accept; 0 = unlimited',
    ),
  maxSubscriptionsPerClient: z
    .number()
    .int()
    .min(1)
    .default(10000)
    .describe('Subscriptions one session may hold'),
});

export const samplingSchema = z.object({
  sampleRatio: z
    .number()
    .min(0)
    .max(1)
    .default(1)
    .describe('Share of messages without a sampled parent that start a trace (parent-based ratio)'),
  alwaysSampleClients: z
    .array(z.string().min(1))
    .default([])
    .describe('Client ids whose messages and control packets are always traced (comma-separated in env)'),
  alwaysSampleTopics: z
    .array(z.string().min(1))
    .default([])
    .describe('Topic filters whose messages are always traced (comma-separated in env)'),
});

export const telemetrySchema = z.object({
  metrics: z
    .object({
      enabled: z
        .boolean()
        .default(true)
        .describe('Serve Prometheus metrics at GET /metrics on the admin port'),
    })
    .prefault({}),
  tracing: z
    .object({
      enabled: z
        .boolean()
        .default(false)
        .describe('Trace messages with OpenTelemetry and export them over OTLP/HTTP'),
      endpoint: z
        .string()
        .default('')
        .describe(
          'OTLP/HTTP base URL, e.g. http://localhost:4318; empty = OTEL_EXPORTER_OTLP_* or the default',
        ),
      ...samplingSchema.shape,
    })
    .prefault({}),
});

export const configSchema = z.object({
  log: z
    .object({
      level: z
        .enum(['debug', 'info', 'warn', 'error', 'silent'])
        .default('info')
        .describe('Lowest level logged'),
    })
    .prefault({}),
  listeners: listenersSchema.prefault({}),
  http: z
    .object({
      host: z.string().min(1).default('0.0.0.0').describe('Interface address of the admin HTTP server'),
      port: port.default(8080).describe('Port of the admin HTTP server (health, later metrics and API)'),
    })
    .prefault({}),
  mqtt: mqttSchema.prefault({}),
  telemetry: telemetrySchema.prefault({}),
  sys: z
    .object({
      enabled: z.boolean().default(true).describe('Publish $SYS/broker/... statistics'),
      intervalSeconds: z.number().int().min(1).default(10).describe('Seconds between $SYS updates'),
    })
    .prefault({}),
});

export type FluxConfig = z.infer<typeof configSchema>;
export type MqttConfig = z.infer<typeof mqttSchema>;
export type ListenersConfig = z.infer<typeof listenersSchema>;
export type TelemetryConfig = z.infer<typeof telemetrySchema>;
export type SamplingConfig = z.infer<typeof samplingSchema>;
/** What callers may pass: every key optional, at any depth. */
export type FluxConfigInput = z.input<typeof configSchema>;
