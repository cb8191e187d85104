import { PACKET_TYPE_NAMES, PacketType, ReasonCode, type Packet } from '@fluxmq/codec';
import { ClientState, type Client } from '../client';
import { handlePuback, handlePubcomp, handlePubrec, handlePubrel } from './acks';
import { handleConnect } from './connect';
import { handleDisconnect } from './disconnect';
import { handlePublish } from './publish';
import { handleSubscribe } from './subscribe';
import { handleUnsubscribe } from './unsubscribe';

/**
 * Routes a decoded packet to its handler (one file per protocol step, as in Mosquitto). A handler returns a
 * Promise only when a hook answered asynchronously; the client then waits for it before reading on.
 */
export function handlePacket(client: Client, packet: Packet): Promise<void> | void {
  client.broker.observer?.packetReceived?.(client, packet.type);
  if (client.state === ClientState.AwaitingConnect) {
    if (packet.type === PacketType.CONNECT) return handleConnect(client, packet);
    return violation(client, `first packet was ${PACKET_TYPE_NAMES[packet.type]}, not CONNECT`);
  }
  switch (packet.type) {
    case PacketType.PUBLISH:
      return handlePublish(client, packet);
    case PacketType.PUBACK:
      return handlePuback(client, packet);
    case PacketType.PUBREC:
      return handlePubrec(client, packet);
    case PacketType.PUBREL:
      return handlePubrel(client, packet);
    case PacketType.PUBCOMP:
      return handlePubcomp(client, packet);
    case PacketType.SUBSCRIBE:
      return handleSubscribe(client, packet);
    case PacketType.UNSUBSCRIBE:
      return handleUnsubscribe(client, packet);
    case PacketType.PINGREQ:
      return client.writePingresp();
    case PacketType.DISCONNECT:
      return handleDisconnect(client, packet);
    case PacketType.CONNECT:
      return violation(client, 'second CONNECT on one connection');
    case PacketType.AUTH:
      return violation(client, 'AUTH without an authentication method');
    default:
      return violation(client, `${PACKET_TYPE_NAMES[packet.type]} may only be sent by a server`);
  }
}

function violation(client: Client, why: string): void {
  client.broker.log.warn(`closing connection: protocol error: ${why}`, {
    clientId: client.clientId,
    remote: client.remoteAddress,
  });
  client.disconnect('protocol_error', ReasonCode.ProtocolError, why);
}
