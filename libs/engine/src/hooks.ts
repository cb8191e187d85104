import type { Properties, ProtocolVersion, QoS } from '@fluxmq/codec';
import type { Message } from './message';

// The seams through which authentication, authorization, rate limiting, observation and clustering plug
// into the engine (after Aedes's plain hooks). Each is optional; the engine's hot path checks for presence
// with one branch and calls a plain method. A hook may answer synchronously or with a Promise: the engine
// then stops reading from that one client until it settles, so order is kept and no other client waits.

export interface ClientInfo {
  readonly clientId: string;
  readonly username: string | undefined;
  readonly remoteAddress: string;
  /** Listener name: 'tcp', 'ws', ... */
  readonly listener: string;
  readonly protocolVersion: ProtocolVersion;
}

export interface ConnectRequest extends ClientInfo {
  readonly password: Buffer | undefined;
  readonly properties: Properties | undefined;
  /** The verified TLS client certificate (mTLS), so an authenticator can log a client in by it. */
  readonly certificate?: ClientCertificate;
}

/** Identity from a TLS client certificate that the listener verified against its CA. */
export interface ClientCertificate {
  /** Subject as Node prints it: one `KEY=value` per line, e.g. `O=Acme\nCN=sensor-17`. */
  readonly subject: string;
  readonly commonName?: string;
  /** Subject Alternative Names with their type: `DNS:host`, `email:a@b`, `URI:spiffe://...`. */
  readonly subjectAltNames: readonly string[];
}

export type AuthResult =
  | { ok: true; /** Replaces the username the client sent, e.g. a certificate's CN. */ username?: string }
  | {
      ok: false;
      /** 5.0 reason code, mapped to a 3.1.1 return code for older clients. */ reasonCode: number;
      reason?: string;
    };

export interface Authenticator {
  authenticate(request: ConnectRequest): AuthResult | Promise<AuthResult>;
}

export interface Authorizer {
  canPublish(client: ClientInfo, topic: string, qos: QoS, retain: boolean): boolean | Promise<boolean>;
  canSubscribe(client: ClientInfo, filter: string, qos: QoS): boolean | Promise<boolean>;
}

export interface RateLimiter {
  /** False refuses the connection (CONNACK 0x9F in 5.0, return code 3 in 3.1.1). */
  allowConnect?(remoteAddress: string, listener: string): boolean;
  /** False drops the message (PUBACK/PUBREC 0x96 in 5.0) and counts it. */
  allowPublish?(client: ClientInfo, bytes: number): boolean;
}

export type DropReason =
  | 'queue_full'
  | 'expired'
  | 'too_large'
  | 'no_subscribers'
  | 'not_authorized'
  | 'rate_limited'
  | 'qos0_not_writable'
  | 'qos0_offline';

export type DisconnectCause =
  | 'client_disconnect'
  | 'connection_lost'
  | 'keepalive_timeout'
  | 'takeover'
  | 'protocol_error'
  | 'malformed_packet'
  | 'packet_too_large'
  | 'not_authorized'
  | 'server_shutdown'
  | 'connect_timeout'
  | 'admin_kick';

/**
 * Everything observable about the broker's work, for tracing, metrics and logs. Calls happen on the hot
 * path, synchronously: implementations must be cheap and must not throw.
 */
export interface BrokerObserver {
  clientConnected?(client: ClientInfo, sessionPresent: boolean): void;
  connectRefused?(request: ClientInfo, reasonCode: number): void;
  clientDisconnected?(client: ClientInfo, cause: DisconnectCause, reasonCode: number): void;
  /** A PUBLISH from a client (or the broker itself) is about to be routed. */
  messagePublished?(publisher: ClientInfo | undefined, msg: Message): void;
  /** A message was written to a subscriber's connection. */
  messageDelivered?(subscriberId: string, msg: Message, qos: QoS): void;
  messageDropped?(reason: DropReason, msg: Message | undefined, clientId: string | undefined): void;
  /** Only when an authenticator is configured. */
  authenticated?(client: ClientInfo, success: boolean): void;
  subscribed?(client: ClientInfo, filter: string, qos: QoS, reasonCode: number): void;
  unsubscribed?(client: ClientInfo, filter: string): void;
  packetReceived?(client: ClientInfo, type: number): void;
  /** The broker finished handling one socket read (or timer) and handed its output to the sockets. */
  batchEnded?(): void;
}

/** A span of work on one message; `end` takes an error type when the work failed. */
export interface TraceSpan {
  end(errorType?: string): void;
}

/** The trace of one published message: its spans are children of the publish span. */
export interface PublishTrace extends TraceSpan {
  /** Trace and span ids for log lines written about this message. */
  readonly logFields: Readonly<Record<string, string>>;
  child(name: 'authorize' | 'route' | 'persist'): TraceSpan;
  /** One delivery to one subscriber; its context travels to 5.0 subscribers as `traceparent`. */
  deliver(subscriber: ClientInfo, qos: QoS): DeliveryTrace;
}

export interface DeliveryTrace extends TraceSpan {
  readonly traceparent: string;
  readonly tracestate: string | undefined;
}

export type ControlOperation = 'connect' | 'subscribe' | 'unsubscribe' | 'disconnect';

/** What a client's connect, subscribe (one filter), unsubscribe (one filter) or disconnect came to. */
export interface ControlOutcome {
  readonly reasonCode: number;
  /** Set when the operation failed: refused, or (a connect) cut short by the connection's end. */
  readonly errorType?: string;
  readonly filter?: string;
  readonly qos?: QoS;
  readonly sessionPresent?: boolean;
  readonly disconnectCause?: DisconnectCause;
}

/**
 * The span of one control operation. It starts before the operation's work (a connect's authentication
 * included) and ends with its outcome; log lines written in between carry `logFields`.
 */
export interface ControlTrace {
  readonly logFields: Readonly<Record<string, string>>;
  end(outcome: ControlOutcome): void;
}

/**
 * Traces each message's path and each client's control operations. `startPublish` runs for every PUBLISH
 * and returns undefined for messages that are not sampled, so an untraced message costs one call and
 * nothing after it; `startControl` likewise.
 */
export interface MessageTracer {
  startPublish(publisher: ClientInfo | undefined, msg: Message): PublishTrace | undefined;
  startControl(operation: ControlOperation, client: ClientInfo): ControlTrace | undefined;
}

/**
 * A way to other brokers of a cluster (a later issue runs several brokers over an existing distributed
 * engine). The engine hands every locally published message to `forward`, and routes what `attach`'s
 * callback receives as if a local client had published it.
 */
export interface ClusterBus {
  forward(msg: Message): void;
  attach(deliverLocally: (msg: Message) => void): void;
}

export interface BrokerHooks {
  authenticator?: Authenticator;
  authorizer?: Authorizer;
  rateLimiter?: RateLimiter;
  observer?: BrokerObserver;
  tracer?: MessageTracer;
  cluster?: ClusterBus;
}

/** One observer that calls several, for metrics and tracing side by side. */
export function combineObservers(...observers: (BrokerObserver | undefined)[]): BrokerObserver | undefined {
  const list = observers.filter((o): o is BrokerObserver => o !== undefined);
  if (list.length <= 1) return list[0];
  const combined: BrokerObserver = {};
  const keys = new Set(list.flatMap((o) => Object.keys(o) as (keyof BrokerObserver)[]));
  for (const key of keys) {
    const fns = list.map((o) => o[key]?.bind(o)).filter((f) => f !== undefined) as ((
      ...a: unknown[]
    ) => void)[];
    // One observer with this event: its own function, without a rest-args wrapper on the hot path.
    (combined as Record<string, (...a: unknown[]) => void>)[key] =
      fns.length === 1
        ? fns[0]
        : (...args: unknown[]) => {
            for (const fn of fns) fn(...args);
          };
  }
  return combined;
}
