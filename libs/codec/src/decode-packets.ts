import { MALFORMED, PROTOCOL_ERROR } from './errors';
import { decodeConnect } from './decode-connect';
import {
  PacketType,
  type AckPacket,
  type AuthPacket,
  type ConnackPacket,
  type DisconnectPacket,
  type Packet,
  type Properties,
  type PublishPacket,
  type QoS,
  type SubackPacket,
  type SubscribePacket,
  type Subscription,
  type UnsubackPacket,
  type UnsubscribePacket,
} from './packets';
import { readProperties } from './properties';
import { CONTEXT_NAME } from './property-ids';
import type { Reader } from './reader';

/** Fixed-header flag bits each packet type must carry (spec 2.1.3); PUBLISH's are meaningful instead. */
const REQUIRED_FLAGS = [-1, 0, 0, -1, 0, 0, 2, 0, 2, 0, 2, 0, 0, 0, 0, 0];
const PACKET_ID_WHAT = CONTEXT_NAME.map((name) => `${name} packet identifier`);

/**
 * Decodes the packet whose variable header and payload span the reader's region. `b0` is the first
 * byte of the fixed header.
 */
export function decodePacket(r: Reader, b0: number): Packet {
  const type = b0 >> 4;
  const flags = b0 & 0x0f;
  // PUBLISH is the hot path and always consumes the whole remaining length as its payload.
  if (type === PacketType.PUBLISH) return decodePublish(r, flags);
  if (type === 0) throw r.fail(MALFORMED, 'packet type 0 is reserved');
  if (flags !== REQUIRED_FLAGS[type]) {
    throw r.fail(
      MALFORMED,
      `${CONTEXT_NAME[type]} fixed header flags are 0b${flags.toString(2).padStart(4, '0')}; ` +
        `they must be 0b${REQUIRED_FLAGS[type].toString(2).padStart(4, '0')}`,
    );
  }
  let packet: Packet;
  switch (type) {
    case PacketType.CONNECT:
      packet = decodeConnect(r);
      break;
    case PacketType.CONNACK:
      packet = decodeConnack(r);
      break;
    case PacketType.PUBACK:
    case PacketType.PUBREC:
    case PacketType.PUBREL:
    case PacketType.PUBCOMP:
      packet = decodeAck(r, type);
      break;
    case PacketType.SUBSCRIBE:
      packet = decodeSubscribe(r);
      break;
    case PacketType.SUBACK:
      packet = decodeSuback(r);
      break;
    case PacketType.UNSUBSCRIBE:
      packet = decodeUnsubscribe(r);
      break;
    case PacketType.UNSUBACK:
      packet = decodeUnsuback(r);
      break;
    case PacketType.PINGREQ:
      packet = { type: PacketType.PINGREQ };
      break;
    case PacketType.PINGRESP:
      packet = { type: PacketType.PINGRESP };
      break;
    case PacketType.DISCONNECT:
      packet = decodeDisconnect(r);
      break;
    default:
      packet = decodeAuth(r);
  }
  if (r.pos !== r.end) {
    throw r.fail(
      MALFORMED,
      `${CONTEXT_NAME[type]} has ${r.end - r.pos} bytes left over after its last field (remaining length too long)`,
    );
  }
  return packet;
}

function decodePublish(r: Reader, flags: number): PublishPacket {
  const qos = (flags >> 1) & 3;
  if (qos === 3) throw r.fail(MALFORMED, 'PUBLISH QoS is 3');
  const dup = (flags & 0x08) !== 0;
  if (dup && qos === 0) throw r.fail(MALFORMED, 'PUBLISH has DUP set on a QoS 0 message');
  const topic = r.utf8('PUBLISH topic');
  const packetId = qos === 0 ? 0 : packetIdentifier(r, PacketType.PUBLISH);
  const properties = r.version === 5 ? readProperties(r, PacketType.PUBLISH) : undefined;
  const payload = r.buf.subarray(r.pos, r.end);
  r.pos = r.end;
  return {
    type: PacketType.PUBLISH,
    topic,
    payload,
    qos: qos as QoS,
    retain: (flags & 0x01) !== 0,
    dup,
    packetId,
    properties,
  };
}

function packetIdentifier(r: Reader, type: number): number {
  const id = r.u16(PACKET_ID_WHAT[type]);
  if (id === 0) throw r.fail(PROTOCOL_ERROR, `${CONTEXT_NAME[type]} packet identifier is 0`);
  return id;
}

function decodeConnack(r: Reader): ConnackPacket {
  const flags = r.u8('CONNACK acknowledge flags');
  if (flags > 1) throw r.fail(MALFORMED, 'CONNACK reserved acknowledge flags (bits 7-1) are set');
  const reasonCode = r.u8('CONNACK reason code');
  const properties = r.version === 5 ? readProperties(r, PacketType.CONNACK) : undefined;
  return { type: PacketType.CONNACK, sessionPresent: flags === 1, reasonCode, properties };
}

function decodeAck(r: Reader, type: AckPacket['type']): AckPacket {
  const packetId = packetIdentifier(r, type);
  let reasonCode = 0;
  let properties: Properties | undefined;
  // 5.0 may drop the property length, then also the reason code, when they are empty / success.
  if (r.version === 5 && r.pos < r.end) {
    reasonCode = r.buf[r.pos++];
    if (r.pos < r.end) properties = readProperties(r, type);
  }
  return { type, packetId, reasonCode, properties };
}

function decodeSubscribe(r: Reader): SubscribePacket {
  const packetId = packetIdentifier(r, PacketType.SUBSCRIBE);
  const v5 = r.version === 5;
  const properties = v5 ? readProperties(r, PacketType.SUBSCRIBE) : undefined;
  const subscriptions: Subscription[] = [];
  while (r.pos < r.end) {
    const filter = r.utf8('SUBSCRIBE topic filter');
    const options = r.u8('SUBSCRIBE subscription options');
    if (v5 ? options & 0xc0 : options & 0xfc) {
      throw r.fail(
        MALFORMED,
        `SUBSCRIBE subscription options 0x${options.toString(16)} have reserved bits (${v5 ? '7-6' : '7-2'}) set`,
      );
    }
    const qos = options & 3;
    if (qos === 3) throw r.fail(MALFORMED, `SUBSCRIBE requests QoS 3 for "${filter}"`);
    const retainHandling = (options >> 4) & 3;
    if (retainHandling === 3) throw r.fail(PROTOCOL_ERROR, `SUBSCRIBE retain handling is 3 for "${filter}"`);
    subscriptions.push({
      filter,
      qos: qos as QoS,
      noLocal: (options & 0x04) !== 0,
      retainAsPublished: (options & 0x08) !== 0,
      retainHandling: retainHandling as 0 | 1 | 2,
    });
  }
  if (subscriptions.length === 0) throw r.fail(emptyListCode(r), 'SUBSCRIBE with no topic filters');
  return { type: PacketType.SUBSCRIBE, packetId, subscriptions, properties };
}

function decodeSuback(r: Reader): SubackPacket {
  const packetId = packetIdentifier(r, PacketType.SUBACK);
  const properties = r.version === 5 ? readProperties(r, PacketType.SUBACK) : undefined;
  const reasonCodes = reasonCodeList(r, PacketType.SUBACK);
  if (r.version !== 5) {
    for (const code of reasonCodes) {
      if (code > 2 && code !== 0x80) throw r.fail(MALFORMED, `SUBACK return code 0x${code.toString(16)}`);
    }
  }
  return { type: PacketType.SUBACK, packetId, reasonCodes, properties };
}

function decodeUnsubscribe(r: Reader): UnsubscribePacket {
  const packetId = packetIdentifier(r, PacketType.UNSUBSCRIBE);
  const properties = r.version === 5 ? readProperties(r, PacketType.UNSUBSCRIBE) : undefined;
  const filters: string[] = [];
  while (r.pos < r.end) filters.push(r.utf8('UNSUBSCRIBE topic filter'));
  if (filters.length === 0) throw r.fail(emptyListCode(r), 'UNSUBSCRIBE with no topic filters');
  return { type: PacketType.UNSUBSCRIBE, packetId, filters, properties };
}

function decodeUnsuback(r: Reader): UnsubackPacket {
  const packetId = packetIdentifier(r, PacketType.UNSUBACK);
  // 3.1.1 UNSUBACK is just the packet identifier.
  if (r.version !== 5) return { type: PacketType.UNSUBACK, packetId, reasonCodes: [], properties: undefined };
  const properties = readProperties(r, PacketType.UNSUBACK);
  const reasonCodes = reasonCodeList(r, PacketType.UNSUBACK);
  return { type: PacketType.UNSUBACK, packetId, reasonCodes, properties };
}

function reasonCodeList(r: Reader, type: number): number[] {
  const codes: number[] = [];
  while (r.pos < r.end) codes.push(r.buf[r.pos++]);
  if (codes.length === 0) throw r.fail(emptyListCode(r), `${CONTEXT_NAME[type]} with no reason codes`);
  return codes;
}

function emptyListCode(r: Reader): number {
  return r.version === 5 ? PROTOCOL_ERROR : MALFORMED;
}

function decodeDisconnect(r: Reader): DisconnectPacket {
  let reasonCode = 0;
  let properties: Properties | undefined;
  if (r.version === 5 && r.pos < r.end) {
    reasonCode = r.buf[r.pos++];
    if (r.pos < r.end) properties = readProperties(r, PacketType.DISCONNECT);
  }
  return { type: PacketType.DISCONNECT, reasonCode, properties };
}

function decodeAuth(r: Reader): AuthPacket {
  if (r.version !== 5) throw r.fail(MALFORMED, `AUTH packet (type 15) is reserved before MQTT 5.0`);
  let reasonCode = 0;
  let properties: Properties | undefined;
  if (r.pos < r.end) {
    reasonCode = r.buf[r.pos++];
    if (r.pos < r.end) properties = readProperties(r, PacketType.AUTH);
  }
  return { type: PacketType.AUTH, reasonCode, properties };
}
