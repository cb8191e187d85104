import { propertiesSize, writeProperties } from './encode-properties';
import {
  PacketType,
  type AckPacket,
  type AuthPacket,
  type ConnackPacket,
  type ConnectPacket,
  type DisconnectPacket,
  type Packet,
  type ProtocolVersion,
  type Properties,
  type PublishPacket,
  type SubackPacket,
  type SubscribePacket,
  type UnsubackPacket,
  type UnsubscribePacket,
} from './packets';
import { allocPacket, binarySize, stringSize, varintSize, writeBinary, writeString, writeU16 } from './wire';

/**
 * Encodes a packet for the given protocol version into one exactly-sized buffer. Fields the version
 * has no room for (reason codes, properties in 3.1.1) are dropped. A CONNECT is laid out by its own
 * `protocolName`/`protocolVersion`, which it writes as is. Numeric fields are trusted to be in range.
 */
export function encode(packet: Packet, version: ProtocolVersion): Buffer {
  switch (packet.type) {
    case PacketType.PUBLISH:
      return encodePublish(packet, version);
    case PacketType.CONNECT:
      return encodeConnect(packet);
    case PacketType.CONNACK:
      return encodeConnack(packet, version);
    case PacketType.PUBACK:
    case PacketType.PUBREC:
    case PacketType.PUBREL:
    case PacketType.PUBCOMP:
      return encodeAck(packet, version);
    case PacketType.SUBSCRIBE:
      return encodeSubscribe(packet, version);
    case PacketType.SUBACK:
    case PacketType.UNSUBACK:
      return encodeSubackOrUnsuback(packet, version);
    case PacketType.UNSUBSCRIBE:
      return encodeUnsubscribe(packet, version);
    case PacketType.PINGREQ:
    case PacketType.PINGRESP:
      return allocPacket(packet.type << 4, 0);
    case PacketType.DISCONNECT:
    case PacketType.AUTH:
      return encodeDisconnectOrAuth(packet, version);
  }
}

/**
 * `encode` for a PUBLISH. The broker's delivery path calls it directly: V8 inlines `encode` whole, all
 * packet types' cases, into the path it is called from, against a budget that path needs for itself.
 */
export function encodePublish(packet: PublishPacket, version: ProtocolVersion): Buffer {
  const { qos, payload } = packet;
  const propsSize = version === 5 ? propertiesSize(packet.properties) : 0;
  const remaining =
    stringSize(packet.topic, 'PUBLISH topic') +
    (qos > 0 ? 2 : 0) +
    (version === 5 ? varintSize(propsSize) + propsSize : 0) +
    payload.length;
  const b0 = 0x30 | (packet.dup ? 0x08 : 0) | (qos << 1) | (packet.retain ? 0x01 : 0);
  const buf = allocPacket(b0, remaining);
  let pos = writeString(buf, buf.length - remaining, packet.topic);
  if (qos > 0) pos = writeU16(buf, pos, packet.packetId);
  if (version === 5) pos = writeProperties(buf, pos, packet.properties, propsSize);
  payload.copy(buf, pos);
  return buf;
}

function encodeConnect(packet: ConnectPacket): Buffer {
  const v5 = packet.protocolVersion === 5;
  const { will, username, password } = packet;
  const propsSize = v5 ? propertiesSize(packet.properties) : 0;
  const willPropsSize = v5 && will ? propertiesSize(will.properties) : 0;
  let remaining =
    stringSize(packet.protocolName, 'CONNECT protocol name') +
    4 +
    (v5 ? varintSize(propsSize) + propsSize : 0) +
    stringSize(packet.clientId, 'CONNECT client identifier');
  if (will) {
    if (v5) remaining += varintSize(willPropsSize) + willPropsSize;
    remaining +=
      stringSize(will.topic, 'CONNECT will topic') + binarySize(will.payload, 'CONNECT will payload');
  }
  if (username !== undefined) remaining += stringSize(username, 'CONNECT username');
  if (password !== undefined) remaining += binarySize(password, 'CONNECT password');

  let flags = packet.cleanStart ? 0x02 : 0;
  if (will) flags |= 0x04 | (will.qos << 3) | (will.retain ? 0x20 : 0);
  if (password !== undefined) flags |= 0x40;
  if (username !== undefined) flags |= 0x80;

  const buf = allocPacket(0x10, remaining);
  let pos = writeString(buf, buf.length - remaining, packet.protocolName);
  buf[pos++] = packet.protocolVersion;
  buf[pos++] = flags;
  pos = writeU16(buf, pos, packet.keepAlive);
  if (v5) pos = writeProperties(buf, pos, packet.properties, propsSize);
  pos = writeString(buf, pos, packet.clientId);
  if (will) {
    if (v5) pos = writeProperties(buf, pos, will.properties, willPropsSize);
    pos = writeString(buf, pos, will.topic);
    pos = writeBinary(buf, pos, will.payload);
  }
  if (username !== undefined) pos = writeString(buf, pos, username);
  if (password !== undefined) writeBinary(buf, pos, password);
  return buf;
}

function encodeConnack(packet: ConnackPacket, version: ProtocolVersion): Buffer {
  // 5.0 CONNACK always carries the property length, even when it is 0.
  const propsSize = version === 5 ? propertiesSize(packet.properties) : 0;
  const remaining = 2 + (version === 5 ? varintSize(propsSize) + propsSize : 0);
  const buf = allocPacket(0x20, remaining);
  let pos = buf.length - remaining;
  buf[pos++] = packet.sessionPresent ? 1 : 0;
  buf[pos++] = packet.reasonCode;
  if (version === 5) writeProperties(buf, pos, packet.properties, propsSize);
  return buf;
}

function encodeAck(packet: AckPacket, version: ProtocolVersion): Buffer {
  const b0 = (packet.type << 4) | (packet.type === PacketType.PUBREL ? 0x02 : 0);
  return encodeCodeAndProperties(b0, packet.packetId, packet.reasonCode, packet.properties, version);
}

function encodeDisconnectOrAuth(packet: DisconnectPacket | AuthPacket, version: ProtocolVersion): Buffer {
  if (packet.type === PacketType.AUTH && version !== 5) throw new RangeError('AUTH exists only in MQTT 5.0');
  return encodeCodeAndProperties(packet.type << 4, -1, packet.reasonCode, packet.properties, version);
}

/**
 * Acks, DISCONNECT and AUTH: an optional packet id, then in 5.0 a reason code and properties, both
 * left out when they are success and empty (the shortest form the spec allows).
 */
function encodeCodeAndProperties(
  b0: number,
  packetId: number,
  reasonCode: number,
  properties: Properties | undefined,
  version: ProtocolVersion,
): Buffer {
  const propsSize = version === 5 ? propertiesSize(properties) : 0;
  let remaining = packetId >= 0 ? 2 : 0;
  if (propsSize > 0) remaining += 1 + varintSize(propsSize) + propsSize;
  else if (version === 5 && reasonCode !== 0) remaining += 1;
  const buf = allocPacket(b0, remaining);
  let pos = buf.length - remaining;
  if (packetId >= 0) pos = writeU16(buf, pos, packetId);
  if (propsSize > 0 || (version === 5 && reasonCode !== 0)) buf[pos++] = reasonCode;
  if (propsSize > 0) writeProperties(buf, pos, properties, propsSize);
  return buf;
}

function encodeSubscribe(packet: SubscribePacket, version: ProtocolVersion): Buffer {
  const propsSize = version === 5 ? propertiesSize(packet.properties) : 0;
  let remaining = 2 + (version === 5 ? varintSize(propsSize) + propsSize : 0);
  for (const sub of packet.subscriptions) remaining += stringSize(sub.filter, 'SUBSCRIBE topic filter') + 1;
  const buf = allocPacket(0x82, remaining);
  let pos = writeU16(buf, buf.length - remaining, packet.packetId);
  if (version === 5) pos = writeProperties(buf, pos, packet.properties, propsSize);
  for (const sub of packet.subscriptions) {
    pos = writeString(buf, pos, sub.filter);
    buf[pos++] =
      version === 5
        ? sub.qos | (sub.noLocal ? 0x04 : 0) | (sub.retainAsPublished ? 0x08 : 0) | (sub.retainHandling << 4)
        : sub.qos;
  }
  return buf;
}

function encodeSubackOrUnsuback(packet: SubackPacket | UnsubackPacket, version: ProtocolVersion): Buffer {
  const b0 = packet.type << 4;
  // A 3.1.1 UNSUBACK is only the packet identifier.
  const codes = version === 5 || packet.type === PacketType.SUBACK ? packet.reasonCodes.length : 0;
  const propsSize = version === 5 ? propertiesSize(packet.properties) : 0;
  const remaining = 2 + (version === 5 ? varintSize(propsSize) + propsSize : 0) + codes;
  const buf = allocPacket(b0, remaining);
  let pos = writeU16(buf, buf.length - remaining, packet.packetId);
  if (version === 5) pos = writeProperties(buf, pos, packet.properties, propsSize);
  for (let i = 0; i < codes; i++) buf[pos++] = packet.reasonCodes[i];
  return buf;
}

function encodeUnsubscribe(packet: UnsubscribePacket, version: ProtocolVersion): Buffer {
  const propsSize = version === 5 ? propertiesSize(packet.properties) : 0;
  let remaining = 2 + (version === 5 ? varintSize(propsSize) + propsSize : 0);
  for (const filter of packet.filters) remaining += stringSize(filter, 'UNSUBSCRIBE topic filter');
  const buf = allocPacket(0xa2, remaining);
  let pos = writeU16(buf, buf.length - remaining, packet.packetId);
  if (version === 5) pos = writeProperties(buf, pos, packet.properties, propsSize);
  for (const filter of packet.filters) pos = writeString(buf, pos, filter);
  return buf;
}

/**
 * A copy of an encoded QoS 1/2 PUBLISH with its packet identifier, DUP and RETAIN set, so one encoding
 * serves every subscriber.
 */
export function withPacketId(
  encodedPublish: Buffer,
  packetId: number,
  dup: boolean,
  retain: boolean,
): Buffer {
  const b0 = encodedPublish[0];
  if (b0 >> 4 !== PacketType.PUBLISH || (b0 & 0x06) === 0) {
    throw new TypeError('withPacketId needs an encoded QoS 1 or QoS 2 PUBLISH');
  }
  let topicAt = 1;
  while (encodedPublish[topicAt] & 0x80) topicAt++;
  topicAt++;
  const idAt = topicAt + 2 + ((encodedPublish[topicAt] << 8) | encodedPublish[topicAt + 1]);
  const copy = Buffer.allocUnsafe(encodedPublish.length);
  encodedPublish.copy(copy, 0);
  copy[0] = (b0 & 0xf6) | (dup ? 0x08 : 0) | (retain ? 0x01 : 0);
  writeU16(copy, idAt, packetId);
  return copy;
}

/** An encoded PUBLISH with the RETAIN flag as given: the same buffer if already so, else a copy. */
export function withRetain(encodedPublish: Buffer, retain: boolean): Buffer {
  const b0 = encodedPublish[0];
  if (b0 >> 4 !== PacketType.PUBLISH) throw new TypeError('withRetain needs an encoded PUBLISH');
  if ((b0 & 0x01) === (retain ? 1 : 0)) return encodedPublish;
  const copy = Buffer.allocUnsafe(encodedPublish.length);
  encodedPublish.copy(copy, 0);
  copy[0] = b0 ^ 0x01;
  return copy;
}
