import { PacketType, ReasonCode, type AckPacket } from '@fluxmq/codec';
import type { Client } from '../client';

// Acknowledgements from the client for messages the broker sent it, and PUBREL for ones it sent us.

export function handlePuback(client: Client, packet: AckPacket): void {
  if (!client.session!.complete(packet.packetId)) unknownId(client, 'PUBACK', packet.packetId);
}

export function handlePubrec(client: Client, packet: AckPacket): void {
  const session = client.session!;
  if (packet.reasonCode >= 0x80) {
    session.complete(packet.packetId, 'refused'); // the client refused the message: it is done (spec 4.3.3)
    return;
  }
  // Held until 'released' is stored: resent after a restart, a PUBLISH the subscriber already completed
  // would reach it twice, where a PUBREL is harmless.
  if (session.release(packet.packetId)) {
    client.writeWhenDurable({ type: PacketType.PUBREL, packetId: packet.packetId, reasonCode: 0 });
  } else if (client.protocolVersion === 5) {
    client.writePacket({
      type: PacketType.PUBREL,
      packetId: packet.packetId,
      reasonCode: ReasonCode.PacketIdentifierNotFound,
    });
  } else client.writePubrel(packet.packetId);
}

export function handlePubrel(client: Client, packet: AckPacket): void {
  const session = client.session!;
  const known = session.inboundQos2.delete(packet.packetId);
  if (known) session.store?.inboundQos2Removed(session, packet.packetId);
  const reasonCode = known || client.protocolVersion !== 5 ? 0 : ReasonCode.PacketIdentifierNotFound;
  // Once PUBCOMP is out the publisher may reuse the id: a restart must not still remember it as received.
  client.writeWhenDurable({ type: PacketType.PUBCOMP, packetId: packet.packetId, reasonCode });
}

export function handlePubcomp(client: Client, packet: AckPacket): void {
  if (!client.session!.complete(packet.packetId)) unknownId(client, 'PUBCOMP', packet.packetId);
}

function unknownId(client: Client, what: string, packetId: number): void {
  client.broker.log.debug(`${what} for unknown packet id`, { clientId: client.clientId, packetId });
}
