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
  if (session.release(packet.packetId)) client.writePubrel(packet.packetId);
  else if (client.protocolVersion === 5) {
    client.writePacket({
      type: PacketType.PUBREL,
      packetId: packet.packetId,
      reasonCode: ReasonCode.PacketIdentifierNotFound,
    });
  } else client.writePubrel(packet.packetId);
}

export function handlePubrel(client: Client, packet: AckPacket): void {
  const known = client.session!.inboundQos2.delete(packet.packetId);
  const reasonCode = known || client.protocolVersion !== 5 ? 0 : ReasonCode.PacketIdentifierNotFound;
  client.writePacket({ type: PacketType.PUBCOMP, packetId: packet.packetId, reasonCode });
}

export function handlePubcomp(client: Client, packet: AckPacket): void {
  if (!client.session!.complete(packet.packetId)) unknownId(client, 'PUBCOMP', packet.packetId);
}

function unknownId(client: Client, what: string, packetId: number): void {
  client.broker.log.debug(`${what} for unknown packet id`, { clientId: client.clientId, packetId });
}
