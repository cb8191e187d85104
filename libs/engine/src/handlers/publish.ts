import { isUtf8 } from 'node:buffer';
import { PacketType, ReasonCode, type Properties, type PublishPacket } from '@fluxmq/codec';
import type { Client } from '../client';
import type { TraceSpan } from '../hooks';
import { Message } from '../message';
import { topicNameError } from '../topics';

/** An incoming PUBLISH (spec 3.3): resolve its topic alias, check it, then route it and acknowledge. */
export function handlePublish(client: Client, packet: PublishPacket): Promise<void> | void {
  const broker = client.broker;
  const config = broker.config;
  const session = client.session!;
  const props = packet.properties;
  let topic = packet.topic;

  if (props?.topicAlias !== undefined) {
    const alias = props.topicAlias;
    if (alias === 0 || alias > config.topicAliasMaximum) {
      return client.disconnect(
        'protocol_error',
        ReasonCode.TopicAliasInvalid,
        `topic alias ${alias} out of range`,
      );
    }
    const aliases = (client.inboundAliases ??= new Map());
    if (topic.length > 0) aliases.set(alias, topic);
    else {
      const known = aliases.get(alias);
      if (known === undefined) {
        return client.disconnect(
          'protocol_error',
          ReasonCode.ProtocolError,
          `topic alias ${alias} was never set`,
        );
      }
      topic = known;
    }
  }
  if (topic.length === 0) {
    return client.disconnect('protocol_error', ReasonCode.ProtocolError, 'empty topic without a topic alias');
  }
  if (props?.subscriptionIdentifiers !== undefined) {
    return client.disconnect(
      'protocol_error',
      ReasonCode.ProtocolError,
      'subscription identifier from a client',
    );
  }
  const err = topicNameError(topic, config);
  if (err) {
    broker.log.warn(`closing connection: invalid PUBLISH topic: ${err}`, {
      clientId: client.clientId,
      topic,
    });
    return client.disconnect('protocol_error', ReasonCode.TopicNameInvalid, err);
  }
  if (packet.qos > config.maxQos) {
    return client.disconnect('protocol_error', ReasonCode.QoSNotSupported, `QoS above ${config.maxQos}`);
  }
  if (packet.retain && !config.retainAvailable) {
    return client.disconnect('protocol_error', ReasonCode.RetainNotSupported, 'retain is not available');
  }
  if (packet.qos === 2) {
    if (session.inboundQos2.has(packet.packetId)) {
      // A resend before PUBREL: acknowledge again, deliver nothing twice (spec 4.3.3).
      client.writePacket({ type: PacketType.PUBREC, packetId: packet.packetId, reasonCode: 0 });
      return;
    }
    if (session.inboundQos2.size >= config.receiveMaximum) {
      return client.disconnect(
        'protocol_error',
        ReasonCode.ReceiveMaximumExceeded,
        'receive maximum exceeded',
      );
    }
  }
  const stats = broker.stats;
  stats.messagesReceived++;
  stats.publishReceived[packet.qos]++;
  stats.payloadBytesReceived[packet.qos] += packet.payload.length;

  const expiry = props?.messageExpiryInterval;
  const msg = new Message(
    topic,
    packet.payload,
    packet.qos,
    packet.retain,
    props ? forwardable(props) : undefined,
    client.clientId,
    expiry !== undefined ? Date.now() + expiry * 1000 : 0,
    client.readAt,
  );
  const trace = broker.hooks.tracer?.startPublish(client, msg);
  msg.trace = trace;

  if (props?.payloadFormatIndicator === 1 && !isUtf8(packet.payload)) {
    trace?.end('payload_format_invalid');
    return acknowledge(client, packet, ReasonCode.PayloadFormatInvalid, 'payload is not valid UTF-8');
  }
  const limiter = broker.hooks.rateLimiter;
  if (limiter?.allowPublish && !limiter.allowPublish(client, packet.payload.length)) {
    broker.drop('rate_limited', msg, client.clientId);
    trace?.end('rate_limited');
    return acknowledge(client, packet, ReasonCode.MessageRateTooHigh, 'message rate too high');
  }
  const authorizer = broker.hooks.authorizer;
  if (!authorizer) return route(client, packet, msg);
  const span = trace?.child('authorize');
  const allowed = authorizer.canPublish(client, topic, packet.qos, packet.retain);
  if (allowed instanceof Promise) {
    msg.own(); // the payload is a view into a socket buffer that later reads may not keep
    return allowed.then((ok) => authorized(client, packet, msg, ok, span));
  }
  authorized(client, packet, msg, allowed, span);
}

function authorized(
  client: Client,
  packet: PublishPacket,
  msg: Message,
  allowed: boolean,
  span: TraceSpan | undefined,
): void {
  if (allowed) {
    span?.end();
    return route(client, packet, msg);
  }
  span?.end('not_authorized');
  const broker = client.broker;
  broker.log.info('publish not authorized', {
    clientId: client.clientId,
    topic: msg.topic,
    ...msg.trace?.logFields,
  });
  broker.drop('not_authorized', msg, client.clientId);
  broker.stats.authzDenied.publish++;
  msg.trace?.end('not_authorized');
  acknowledge(client, packet, ReasonCode.NotAuthorized, `not authorized to publish to ${msg.topic}`);
}

function route(client: Client, packet: PublishPacket, msg: Message): void {
  const broker = client.broker;
  const delivered = broker.publish(msg, client);
  if (packet.qos === 2) {
    const session = client.session!;
    session.inboundQos2.add(packet.packetId);
    session.store?.inboundQos2Added(session, packet.packetId);
  }
  acknowledge(client, packet, delivered > 0 ? ReasonCode.Success : ReasonCode.NoMatchingSubscribers);
  const trace = msg.trace;
  if (trace && (msg.storeId !== 0 || msg.retain) && broker.store?.holdsAcks) {
    const span = trace.child('persist');
    broker.whenDurable(() => {
      span.end();
      trace.end();
    });
  } else trace?.end();
}

/**
 * PUBACK or PUBREC; 3.1.1 has no reason codes, so there it is a plain acknowledgement. Every one waits for
 * the store's commit when acknowledgements are held, even a refusal, so that they leave in order.
 */
function acknowledge(client: Client, packet: PublishPacket, reasonCode: number, why?: string): void {
  if (packet.qos === 0) return;
  const type = packet.qos === 1 ? PacketType.PUBACK : PacketType.PUBREC;
  if (client.protocolVersion !== 5) {
    client.writeWhenDurable({ type, packetId: packet.packetId, reasonCode: 0 });
    return;
  }
  const properties = why && client.requestProblemInformation ? { reasonString: why } : undefined;
  client.writeWhenDurable({ type, packetId: packet.packetId, reasonCode, properties });
}

/** The properties a server forwards (spec 3.3.2.3): not the alias, ids or expiry, which are per hop. */
function forwardable(props: Properties): Properties | undefined {
  const {
    topicAlias: _alias,
    subscriptionIdentifiers: _ids,
    messageExpiryInterval: _expiry,
    ...rest
  } = props;
  for (const _ in rest) return rest;
  return undefined;
}
