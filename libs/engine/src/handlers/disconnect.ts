import { ReasonCode, type DisconnectPacket } from '@fluxmq/codec';
import type { Client } from '../client';

/** A client's DISCONNECT (spec 3.14): the will is dropped unless 5.0 reason 0x04 asks for it. */
export function handleDisconnect(client: Client, packet: DisconnectPacket): void {
  const session = client.session!;
  const expiry = packet.properties?.sessionExpiryInterval;
  if (expiry !== undefined) {
    if (session.expiryInterval === 0 && expiry !== 0) {
      // Spec 3.14.2.2.2: a session that was to end at disconnect cannot be given a life afterwards.
      return client.disconnect('protocol_error', ReasonCode.ProtocolError, 'session expiry set after 0');
    }
    session.expiryInterval = Math.min(expiry, client.broker.config.maxSessionExpiryInterval);
  }
  if (packet.reasonCode !== ReasonCode.DisconnectWithWill) client.will = undefined;
  client.terminate('client_disconnect', packet.reasonCode);
}
