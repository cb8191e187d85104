import { PACKET_TYPE_NAMES, ReasonCode } from '@fluxmq/codec';
import type { Broker, BrokerObserver, DisconnectCause, DropReason } from '@fluxmq/engine';
import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  type Metric,
  type Registry,
  type RegistryContentType,
} from 'prom-client';
import { LATENCY_BUCKETS, type LatencyHistogram } from './latency';
import { installedSpanExporter, type OtlpSpanExporter } from './otlp/span-exporter';

const REASON_NAMES = new Map<number, string>(
  Object.entries(ReasonCode).map(([k, v]) => [v, k.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase()]),
);
REASON_NAMES.set(0, 'success');
const QOS = ['0', '1', '2'];
const VERSIONS: Record<number, string> = { 3: '3.1', 4: '3.1.1', 5: '5.0' };
const DISCONNECT_CAUSES: DisconnectCause[] = [
  'client_disconnect',
  'connection_lost',
  'keepalive_timeout',
  'takeover',
  'protocol_error',
  'malformed_packet',
  'packet_too_large',
  'not_authorized',
  'server_shutdown',
  'connect_timeout',
  'admin_kick',
];

type Collected = { labels: Record<string, string>; value: number }[];

/**
 * Registers FluxMQ's metrics in a registry. Counters and gauges are read from the engine's own tallies
 * when Prometheus scrapes, so metrics add nothing to the message path; only delivery latency is recorded
 * as it happens. Label values are bounded (QoS, reason, listener, packet type; never client ids).
 */
export function registerBrokerMetrics(
  registry: Registry<RegistryContentType>,
  broker: Broker,
  latency: LatencyHistogram,
  version: string,
  spanExporter: OtlpSpanExporter | undefined = installedSpanExporter(),
): void {
  const s = broker.stats;
  const counter = (name: string, help: string, labelNames: string[], read: () => Collected): void => {
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const { labels, value } of read()) this.inc(labels, value);
      },
    });
  };
  const gauge = (name: string, help: string, labelNames: string[], read: () => Collected): void => {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const { labels, value } of read()) this.set(labels, value);
      },
    });
  };
  const byQos = (values: number[]): Collected => QOS.map((qos, i) => ({ labels: { qos }, value: values[i] }));
  const byType = (values: number[]): Collected =>
    values.flatMap((value, type) =>
      type === 0 ? [] : [{ labels: { type: PACKET_TYPE_NAMES[type].toLowerCase() }, value }],
    );

  counter('fluxmq_connections_opened_total', 'Network connections accepted, by listener', ['listener'], () =>
    [...s.connectionsByListener].map(([listener, value]) => ({ labels: { listener }, value })),
  );
  counter('fluxmq_connects_total', 'CONNECT outcomes by result and reason', ['result', 'reason'], () => {
    const out: Collected = [
      { labels: { result: 'accepted', reason: 'success' }, value: s.connacks.get(0) ?? 0 },
    ];
    for (const [code, value] of s.connacks) {
      if (code !== 0)
        out.push({
          labels: { result: 'refused', reason: REASON_NAMES.get(code) ?? `0x${code.toString(16)}` },
          value,
        });
    }
    return out;
  });
  counter(
    'fluxmq_disconnects_total',
    'Connections of connected clients that ended, by cause',
    ['cause'],
    () => DISCONNECT_CAUSES.map((cause) => ({ labels: { cause }, value: s.disconnects.get(cause) ?? 0 })),
  );
  counter('fluxmq_messages_received_total', 'PUBLISH messages received from clients, by QoS', ['qos'], () =>
    byQos(s.publishReceived),
  );
  counter('fluxmq_messages_sent_total', 'PUBLISH messages sent to subscribers, by QoS', ['qos'], () =>
    byQos(s.publishSent),
  );
  counter('fluxmq_message_received_bytes_total', 'Payload bytes received, by QoS', ['qos'], () =>
    byQos(s.payloadBytesReceived),
  );
  counter('fluxmq_message_sent_bytes_total', 'Payload bytes sent, by QoS', ['qos'], () =>
    byQos(s.payloadBytesSent),
  );
  counter('fluxmq_network_received_bytes_total', 'Bytes read from client connections', [], () => [
    { labels: {}, value: s.bytesReceived },
  ]);
  counter('fluxmq_network_sent_bytes_total', 'Bytes written to client connections', [], () => [
    { labels: {}, value: s.bytesSent },
  ]);
  counter('fluxmq_packets_received_total', 'MQTT packets received, by type', ['type'], () =>
    byType(s.packetsReceivedByType),
  );
  counter('fluxmq_packets_sent_total', 'MQTT packets sent, by type', ['type'], () =>
    byType(s.packetsSentByType),
  );
  counter('fluxmq_messages_dropped_total', 'Messages not delivered, by reason', ['reason'], () =>
    (Object.entries(s.dropped) as [DropReason, number][]).map(([reason, value]) => ({
      labels: { reason },
      value,
    })),
  );
  counter('fluxmq_authentications_total', 'Authentication attempts, by result', ['result'], () => [
    { labels: { result: 'success' }, value: s.authSuccesses },
    { labels: { result: 'failure' }, value: s.authFailures },
  ]);
  counter(
    'fluxmq_authorization_denials_total',
    'Publishes and subscriptions (per filter) refused by authorization, by action',
    ['action'],
    () => [
      { labels: { action: 'publish' }, value: s.authzDenied.publish },
      { labels: { action: 'subscribe' }, value: s.authzDenied.subscribe },
    ],
  );
  counter('fluxmq_subscribes_total', 'Subscription requests (per filter), by result', ['result'], () => [
    { labels: { result: 'granted' }, value: s.subscribesGranted },
    { labels: { result: 'refused' }, value: s.subscribesRefused },
  ]);
  if (spanExporter) {
    counter('fluxmq_trace_spans_exported_total', 'Spans accepted by the OTLP endpoint', [], () => [
      { labels: {}, value: spanExporter.stats.exported },
    ]);
    counter(
      'fluxmq_trace_spans_dropped_total',
      'Spans not exported: the export queue was full (queue_full) or the export request failed (export_failed)',
      ['reason'],
      () => [
        { labels: { reason: 'queue_full' }, value: spanExporter.stats.dropped },
        { labels: { reason: 'export_failed' }, value: spanExporter.stats.failed },
      ],
    );
    counter(
      'fluxmq_traces_shed_total',
      'Sampled messages left untraced because the span export queue was backlogged',
      [],
      () => [{ labels: {}, value: spanExporter.stats.tracesShed }],
    );
  }

  gauge(
    'fluxmq_connections',
    'Connected MQTT clients, by listener and protocol version',
    ['listener', 'protocol_version'],
    () => {
      const counts = new Map<string, { listener: string; protocol_version: string; value: number }>();
      for (const c of broker.clients) {
        if (!c.session) continue;
        const key = `${c.listener}/${c.protocolVersion}`;
        const entry = counts.get(key) ?? {
          listener: c.listener,
          protocol_version: VERSIONS[c.protocolVersion],
          value: 0,
        };
        entry.value++;
        counts.set(key, entry);
      }
      return [...counts.values()].map(({ value, ...labels }) => ({ labels, value }));
    },
  );
  gauge('fluxmq_sessions', 'Sessions, by whether a client is attached', ['state'], () => {
    let online = 0;
    for (const session of broker.sessions.values()) if (session.client) online++;
    return [
      { labels: { state: 'online' }, value: online },
      { labels: { state: 'offline' }, value: broker.sessions.size - online },
    ];
  });
  gauge('fluxmq_subscriptions', 'Subscriptions, shared ones included', [], () => [
    { labels: {}, value: broker.subscriptions.size },
  ]);
  gauge(
    'fluxmq_shared_subscription_groups',
    'Shared subscription groups ($share/{group}/{filter})',
    [],
    () => [{ labels: {}, value: broker.subscriptions.sharedGroupCount }],
  );
  gauge('fluxmq_retained_messages', 'Retained messages stored', [], () => [
    { labels: {}, value: broker.retained.size },
  ]);
  gauge('fluxmq_inflight_messages', 'QoS 1/2 messages sent and awaiting acknowledgement', [], () => {
    let n = 0;
    for (const session of broker.sessions.values()) n += session.inflight.size;
    return [{ labels: {}, value: n }];
  });
  gauge('fluxmq_queued_messages', 'Messages waiting in session queues', [], () => {
    let n = 0;
    for (const session of broker.sessions.values()) n += session.queue.length;
    return [{ labels: {}, value: n }];
  });
  gauge('fluxmq_build_info', 'Always 1; the version is a label', ['version'], () => [
    { labels: { version }, value: 1 },
  ]);
  gauge('fluxmq_uptime_seconds', 'Seconds since the broker started', [], () => [
    { labels: {}, value: (Date.now() - s.startedAt) / 1000 },
  ]);
  registry.registerMetric(latencyMetric(latency) as unknown as Metric);
  collectDefaultMetrics({ register: registry });
  // prom-client names these gauges with a `_total` suffix, which Prometheus reserves for counters
  // (`promtool check metrics` rejects them); the handle and resource counts are not worth the confusion.
  for (const name of [
    'nodejs_active_handles_total',
    'nodejs_active_requests_total',
    'nodejs_active_resources_total',
  ]) {
    registry.removeSingleMetric(name);
  }
}

/** The observer half of metrics: delivery latency, recorded per batch. */
export function latencyObserver(latency: LatencyHistogram): BrokerObserver {
  return {
    messageDelivered: (_id, msg) => latency.defer(msg),
    batchEnded: () => latency.flush(),
  };
}

/** A prom-client metric over `LatencyHistogram`, with exemplars (trace ids) in OpenMetrics output. */
function latencyMetric(latency: LatencyHistogram) {
  const name = 'fluxmq_delivery_latency_seconds';
  return {
    name,
    help: 'Time from receiving a PUBLISH to handing it to a subscriber connection',
    type: 'histogram',
    aggregator: 'sum',
    get() {
      latency.flush();
      let cumulative = 0;
      const values = LATENCY_BUCKETS.map((le, i) => {
        cumulative += latency.counts[i];
        const ex = latency.exemplars[i];
        return {
          labels: { le: String(le) },
          value: cumulative,
          metricName: `${name}_bucket`,
          exemplar: ex
            ? {
                labelSet: { trace_id: ex.trace.logFields['trace_id'] },
                value: ex.value,
                timestamp: ex.timestamp,
              }
            : undefined,
        };
      });
      cumulative += latency.counts[LATENCY_BUCKETS.length];
      values.push({
        labels: { le: '+Inf' },
        value: cumulative,
        metricName: `${name}_bucket`,
        exemplar: undefined,
      });
      return {
        name,
        help: this.help,
        type: this.type,
        aggregator: this.aggregator,
        values: [
          ...values,
          { labels: {}, value: latency.sum, metricName: `${name}_sum` },
          { labels: {}, value: latency.count, metricName: `${name}_count` },
        ],
      };
    },
  };
}
