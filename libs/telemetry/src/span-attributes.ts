import type { QoS } from '@fluxmq/codec';
import type { ClientInfo } from '@fluxmq/engine';
import type { Attributes } from '@opentelemetry/api';

// Span and attribute names follow the OpenTelemetry messaging semantic conventions; MQTT-specific ones
// use the `messaging.mqtt.` namespace as other systems do (`messaging.kafka.`, `messaging.rabbitmq.`).
// Both ways of recording message spans (SDK spans, records) build their attributes from these pieces:
// records encode the constant ones once.
const SYSTEM = 'mqtt';
const VERSIONS: Record<number, string> = { 3: '3.1', 4: '3.1.1', 5: '5.0' };

/**
 * Who sent or receives a message, on its `publish` and `deliver` spans: the attributes the messaging
 * conventions give messaging spans. What a connection was made with (protocol version, listener) is the
 * same for all of its messages, so it is on its control spans (`connectionAttributes`) and not repeated on
 * each message span: a fan-out makes a `deliver` span per subscriber, and the export's cost grows with
 * its bytes (docs/benchmarks.md, "What a span costs is its bytes").
 */
export function clientAttributes(client: ClientInfo): Attributes {
  return {
    'messaging.system': SYSTEM,
    'messaging.client.id': client.clientId,
    'network.peer.address': client.remoteAddress,
  };
}

/** A client's attributes with its connection's, on `connect`, `subscribe`, `unsubscribe` and `disconnect`. */
export function connectionAttributes(client: ClientInfo): Attributes {
  return {
    ...clientAttributes(client),
    'network.protocol.name': 'mqtt',
    'network.protocol.version': VERSIONS[client.protocolVersion],
    'messaging.mqtt.listener': client.listener,
  };
}

/** A client's attributes, or only the system's for messages the broker publishes itself. */
export function publisherAttributes(publisher: ClientInfo | undefined): Attributes {
  return publisher ? clientAttributes(publisher) : { 'messaging.system': SYSTEM };
}

export const PUBLISH_OPERATION: Attributes = {
  'messaging.operation.type': 'receive',
  'messaging.operation.name': 'publish',
};

export const DELIVERY_OPERATION: Attributes = {
  'messaging.operation.type': 'send',
  'messaging.operation.name': 'deliver',
};

export const DESTINATION_NAME = 'messaging.destination.name';
export const BODY_SIZE = 'messaging.message.body.size';

export function destinationAttributes(topic: string, bodySize: number): Attributes {
  return { [DESTINATION_NAME]: topic, [BODY_SIZE]: bodySize };
}

export function qosAttribute(qos: QoS): Attributes {
  return { 'messaging.mqtt.qos': qos };
}

export function retainAttribute(retain: boolean): Attributes {
  return { 'messaging.mqtt.retain': retain };
}
