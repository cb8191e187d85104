import { isIP } from 'node:net';
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
  maxSessions: z
    .number()
    .int()
    .min(0)
    .default(0)
    .describe(
      'Sessions (online and offline) the broker keeps; a CONNECT needing a new one beyond is refused; 0 = unlimited',
    ),
  maxRetainedMessages: z
    .number()
    .int()
    .min(0)
    .default(0)
    .describe(
      'Retained messages kept; a retained publish to a new topic beyond is not stored; 0 = unlimited',
    ),
});

export const persistenceSchema = z.object({
  enabled: z
    .boolean()
    .default(true)
    .describe('Keep retained messages, persistent sessions and delayed wills in SQLite across restarts'),
  path: z
    .string()
    .min(1)
    .default('data/fluxmq.db')
    .describe('SQLite database file, relative to the working directory; its folder is created'),
  durability: z
    .enum(['commit', 'interval'])
    .default('commit')
    .describe(
      'commit: PUBACK/PUBREC/PUBCOMP and SUBACK wait until the state they confirm is committed (group commit); interval: acknowledge at once, commit every flushIntervalMs',
    ),
  flushIntervalMs: z
    .number()
    .int()
    .min(1)
    .max(10000)
    .default(50)
    .describe('Longest time between commits in interval mode: the most recent work a crash can lose'),
  synchronous: z
    .enum(['normal', 'full'])
    .default('normal')
    .describe(
      'SQLite synchronous mode: normal survives a broker crash (kill -9); full also survives power loss, at an fsync per commit',
    ),
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

/** A topic filter as MQTT defines it: `#` only as the whole last level, `+` only as a whole level. */
function isTopicFilter(filter: string): boolean {
  const levels = filter.split('/');
  return levels.every(
    (level, i) =>
      (level === '#' && i === levels.length - 1) ||
      level === '+' ||
      (!level.includes('#') && !level.includes('+')),
  );
}

/** An IPv4 or IPv6 address, alone or as a CIDR range. */
function isIpRange(value: string): boolean {
  const [address, prefix, ...rest] = value.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

// Only a hash is accepted, so a plaintext password can never sit in a configuration file.
const SCRYPT_HASH = /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]+=*$/;

const aclRuleSchema = z.object({
  id: z.string().min(1).optional().describe('Name in denial logs; default acl[N], N counted from 0'),
  effect: z.enum(['allow', 'deny']).describe('What a matching rule decides'),
  action: z.enum(['publish', 'subscribe', 'all']).default('all').describe('Which requests the rule covers'),
  topic: z
    .string()
    .min(1)
    .refine(isTopicFilter, 'must be a topic filter (+ and # as whole levels, # last)')
    .describe(
      'Topic filter; %u = username, %c = client id (a rule whose placeholder cannot be filled never matches)',
    ),
  username: z.string().min(1).optional().describe('Only clients logged in with this username'),
  clientId: z.string().min(1).optional().describe('Only the client with this client id'),
  ipRange: z
    .string()
    .refine(isIpRange, 'must be an IPv4/IPv6 address or CIDR range')
    .optional()
    .describe('Only clients from this address or CIDR range; IPv4-mapped IPv6 addresses match IPv4 ranges'),
  priority: z
    .number()
    .int()
    .default(0)
    .describe('Higher first; at equal priority deny rules come before allow rules, then file order'),
});

const jwtAlgorithms = [
  ...['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'],
  ...['ES256', 'ES384', 'ES512', 'EdDSA'],
] as const;

export const authSchema = z.object({
  enabled: z
    .boolean()
    .default(false)
    .describe('Authenticate clients and authorize their requests; then what no ACL rule allows is denied'),
  allowAnonymous: z
    .boolean()
    .default(false)
    .describe('Admit clients that send no username and no password (CONNACK 0x87 otherwise)'),
  users: z
    .array(
      z.object({
        username: z.string().min(1).describe('Login name'),
        passwordHash: z
          .string()
          .regex(SCRYPT_HASH, 'must be a scrypt hash made by `npm run -s hash-password`, not a password')
          .describe('scrypt$N$r$p$salt$hash, made by `npm run -s hash-password`'),
      }),
    )
    .default([])
    .describe('Built-in users (file only)'),
  certificate: z
    .object({
      enabled: z
        .boolean()
        .default(false)
        .describe('Log in clients by their verified TLS client certificate (needs clientCertificates)'),
      identity: z
        .enum(['cn', 'san'])
        .default('cn')
        .describe("Username taken from the certificate's Common Name or its first Subject Alternative Name"),
    })
    .prefault({}),
  jwt: z
    .object({
      enabled: z
        .boolean()
        .default(false)
        .describe('Accept a JSON Web Token (JWS) sent as the CONNECT password'),
      algorithms: z
        .array(z.enum(jwtAlgorithms))
        .min(1)
        .default(['HS256'])
        .describe('Signature algorithms accepted (comma-separated in env)'),
      secret: z.string().default('').describe('Shared secret for HS256/384/512'),
      publicKey: z.string().default('').describe('PEM public key (SPKI) or certificate for RS/PS/ES/EdDSA'),
      publicKeyFile: z.string().default('').describe('File holding the PEM public key, instead of publicKey'),
      issuer: z.string().default('').describe('Required `iss` claim; empty = not checked'),
      audience: z.string().default('').describe('Required `aud` claim; empty = not checked'),
      usernameClaim: z.string().min(1).default('sub').describe('Claim that becomes the username'),
      aclClaim: z
        .string()
        .min(1)
        .default('acl')
        .describe('Claim with the client’s own ACL rules: [{effect?, action?, topic}]'),
      clockToleranceSeconds: z
        .number()
        .int()
        .min(0)
        .default(30)
        .describe('Clock skew allowed when checking exp and nbf'),
    })
    .superRefine((jwt, ctx) => {
      if (!jwt.enabled) return;
      if (jwt.algorithms.some((a) => a.startsWith('HS')) && !jwt.secret) {
        ctx.addIssue({ code: 'custom', path: ['secret'], message: 'an HS algorithm needs auth.jwt.secret' });
      }
      if (jwt.algorithms.some((a) => !a.startsWith('HS')) && !jwt.publicKey && !jwt.publicKeyFile) {
        const message = 'RS/PS/ES/EdDSA algorithms need auth.jwt.publicKey or auth.jwt.publicKeyFile';
        ctx.addIssue({ code: 'custom', path: ['publicKey'], message });
      }
    })
    .prefault({}),
  http: z
    .object({
      enabled: z.boolean().default(false).describe('Ask an HTTP service to authenticate and authorize'),
      authenticateUrl: z
        .string()
        .default('')
        .describe('POSTed each login with credentials that nothing before it decided; empty = not asked'),
      authorizeUrl: z
        .string()
        .default('')
        .describe('POSTed each publish/subscribe that no ACL rule decided; empty = not asked'),
      timeoutMs: z.number().int().min(1).default(2000).describe('A call not answered in time has failed'),
      cacheTtlSeconds: z
        .number()
        .int()
        .min(0)
        .default(60)
        .describe('How long an answer is reused; 0 = ask every time'),
      cacheSize: z.number().int().min(1).default(10000).describe('Answers cached at most (oldest evicted)'),
      failOpen: z
        .boolean()
        .default(false)
        .describe('On a failed call allow (true) or refuse (false: CONNACK 0x88, request denied)'),
    })
    .superRefine((http, ctx) => {
      if (!http.enabled) return;
      for (const key of ['authenticateUrl', 'authorizeUrl'] as const) {
        if (http[key] && !URL.canParse(http[key])) {
          ctx.addIssue({ code: 'custom', path: [key], message: 'must be an http(s) URL' });
        }
      }
      if (!http.authenticateUrl && !http.authorizeUrl) {
        const message = 'auth.http.enabled needs authenticateUrl or authorizeUrl';
        ctx.addIssue({ code: 'custom', path: ['authenticateUrl'], message });
      }
    })
    .prefault({}),
  acl: z.array(aclRuleSchema).default([]).describe('ACL rules (file only)'),
  aclCacheSize: z
    .number()
    .int()
    .min(1)
    .default(100000)
    .describe('ACL decisions cached (client, action, topic); cleared when rules change'),
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
  persistence: persistenceSchema.prefault({}),
  auth: authSchema.prefault({}),
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
export type PersistenceConfig = z.infer<typeof persistenceSchema>;
export type AuthConfig = z.infer<typeof authSchema>;
export type AclRuleConfig = z.infer<typeof aclRuleSchema>;
/** What callers may pass: every key optional, at any depth. */
export type FluxConfigInput = z.input<typeof configSchema>;
