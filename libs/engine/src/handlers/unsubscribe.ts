import { PacketType, ReasonCode, type UnsubscribePacket } from '@fluxmq/codec';
import type { Client } from '../client';

/** UNSUBSCRIBE (spec 3.10): 5.0 says per filter whether a subscription existed. */
export function handleUnsubscribe(client: Client, packet: UnsubscribePacket): void {
  const broker = client.broker;
  const session = client.session!;
  const reasonCodes = packet.filters.map((filter) => {
    const removed = broker.unsubscribe(session, filter);
    const reasonCode = removed ? ReasonCode.Success : ReasonCode.NoSubscriptionExisted;
    broker.hooks.tracer?.startControl('unsubscribe', client)?.end({ reasonCode, filter });
    if (removed) broker.observer?.unsubscribed?.(client, filter);
    return reasonCode;
  });
  client.writeWhenDurable({
    type: PacketType.UNSUBACK,
    packetId: packet.packetId,
    reasonCodes: client.protocolVersion === 5 ? reasonCodes : [],
  });
}
