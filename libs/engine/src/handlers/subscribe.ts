import { PacketType, ReasonCode, type QoS, type SubscribePacket, type Subscription } from '@fluxmq/codec';
import type { Client } from '../client';
import { subscriptionEntry, type SubscriptionEntry } from '../subscription-tree';
import { hasWildcard, parseSharedFilter, topicFilterError } from '../topics';

/** SUBSCRIBE (spec 3.8): check each filter, subscribe, SUBACK, then send matching retained messages. */
export function handleSubscribe(client: Client, packet: SubscribePacket): Promise<void> | void {
  const config = client.broker.config;
  const identifier = packet.properties?.subscriptionIdentifiers?.[0];
  if (identifier !== undefined && !config.subscriptionIdentifiersAvailable) {
    return client.disconnect('protocol_error', ReasonCode.SubscriptionIdentifiersNotSupported);
  }
  for (const sub of packet.subscriptions) {
    if (sub.noLocal && sub.filter.startsWith('$share/')) {
      return client.disconnect(
        'protocol_error',
        ReasonCode.ProtocolError,
        'No Local on a shared subscription',
      );
    }
  }
  const authorizer = client.broker.hooks.authorizer;
  const decisions = packet.subscriptions.map((sub) =>
    authorizer ? authorizer.canSubscribe(client, sub.filter, sub.qos) : true,
  );
  if (decisions.some((d) => d instanceof Promise)) {
    return Promise.all(decisions).then((allowed) => subscribe(client, packet, identifier, allowed));
  }
  subscribe(client, packet, identifier, decisions as boolean[]);
}

function subscribe(
  client: Client,
  packet: SubscribePacket,
  identifier: number | undefined,
  allowed: boolean[],
): void {
  const broker = client.broker;
  const session = client.session!;
  const retainedToSend: { entry: SubscriptionEntry; isNew: boolean }[] = [];
  const problems: string[] = [];
  const reasonCodes = packet.subscriptions.map((sub, i) => {
    const refusal = check(client, sub, allowed[i]);
    const trace = broker.hooks.tracer?.startControl('subscribe', client);
    if (refusal !== undefined) {
      const [code, why] = refusal;
      broker.log.info(`subscription refused: ${why}`, {
        clientId: client.clientId,
        filter: sub.filter,
        reasonCode: code,
        ...trace?.logFields,
      });
      trace?.end({ reasonCode: code, errorType: 'refused', filter: sub.filter, qos: sub.qos });
      broker.observer?.subscribed?.(client, sub.filter, sub.qos, code);
      problems.push(`${sub.filter}: ${why}`);
      broker.stats.subscribesRefused++;
      if (code === ReasonCode.NotAuthorized) broker.stats.authzDenied.subscribe++;
      return client.protocolVersion === 5 ? code : 0x80;
    }
    const qos = Math.min(sub.qos, broker.config.maxQos) as QoS;
    const entry = subscriptionEntry(session, sub.filter, {
      qos,
      noLocal: sub.noLocal,
      retainAsPublished: sub.retainAsPublished,
      retainHandling: sub.retainHandling,
      identifier,
    });
    const existed = broker.subscribe(session, entry);
    broker.stats.subscribesGranted++;
    trace?.end({ reasonCode: qos, filter: sub.filter, qos });
    broker.observer?.subscribed?.(client, sub.filter, qos, qos);
    if (entry.group === undefined) retainedToSend.push({ entry, isNew: !existed });
    return qos;
  });
  // Reason strings only for 5.0 clients that did not opt out (Request Problem Information, spec 3.1.2.11.7).
  const explain = problems.length > 0 && client.protocolVersion === 5 && client.requestProblemInformation;
  const properties = explain ? { reasonString: problems.join('; ') } : undefined;
  client.writeWhenDurable({ type: PacketType.SUBACK, packetId: packet.packetId, reasonCodes, properties });

  // Retained messages follow the SUBACK; Retain Handling 1 sends them only for a new subscription, 2 never
  // (spec 3.3.1.3). Shared subscriptions never get them (spec 4.8.2).
  if (!broker.config.retainAvailable) return;
  const now = Date.now();
  for (const { entry, isNew } of retainedToSend) {
    if (entry.retainHandling === 2 || (entry.retainHandling === 1 && !isNew)) continue;
    for (const msg of broker.retained.match(entry.filter, now)) {
      session.deliver(msg, entry.qos < msg.qos ? entry.qos : msg.qos, true, entry.identifiers);
    }
  }
}

/** The failure reason code for one filter and why, or undefined when it may be subscribed. */
function check(client: Client, sub: Subscription, allowed: boolean): [number, string] | undefined {
  const config = client.broker.config;
  const shared = parseSharedFilter(sub.filter);
  if (typeof shared === 'string') return [ReasonCode.TopicFilterInvalid, shared];
  const filter = shared ? shared.filter : sub.filter;
  const invalid = topicFilterError(filter, config);
  if (invalid) return [ReasonCode.TopicFilterInvalid, invalid];
  if (shared && !config.sharedSubscriptionAvailable) {
    return [ReasonCode.SharedSubscriptionsNotSupported, 'shared subscriptions are not available'];
  }
  if (!config.wildcardSubscriptionAvailable && hasWildcard(filter)) {
    return [ReasonCode.WildcardSubscriptionsNotSupported, 'wildcard subscriptions are not available'];
  }
  const session = client.session!;
  if (
    !session.subscriptions.has(sub.filter) &&
    session.subscriptions.size >= config.maxSubscriptionsPerClient
  ) {
    return [ReasonCode.QuotaExceeded, `more than ${config.maxSubscriptionsPerClient} subscriptions`];
  }
  if (!allowed) return [ReasonCode.NotAuthorized, 'not authorized'];
  return undefined;
}
