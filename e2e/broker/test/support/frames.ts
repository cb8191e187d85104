/**
 * Byte-level helpers for the raw side: splitting a byte stream into MQTT control packets, building
 * hand-crafted (often deliberately broken) packets, and decoding MQTT 5.0 properties in wire order, which
 * mqtt-packet's object form loses (User Properties with different names).
 */

/** Encodes a Variable Byte Integer. */
export function varint(value: number): Buffer {
  const bytes: number[] = [];
  let v = value;
  do {
    let byte = v % 128;
    v = Math.floor(v / 128);
    if (v > 0) byte |= 0x80;
    bytes.push(byte);
  } while (v > 0);
  return Buffer.from(bytes);
}

/** Two-byte length prefixed UTF-8 string (or raw bytes, to craft invalid UTF-8). */
export function mqttString(value: string | Buffer): Buffer {
  const body = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const length = Buffer.alloc(2);
  length.writeUInt16BE(body.length);
  return Buffer.concat([length, body]);
}

/** A complete packet from a first byte and a body: the remaining length is computed. */
export function packet(firstByte: number, ...body: Buffer[]): Buffer {
  const payload = Buffer.concat(body);
  return Buffer.concat([Buffer.from([firstByte]), varint(payload.length), payload]);
}

export interface FrameHeader {
  /** Bytes used by the fixed header. */
  headerLength: number;
  remainingLength: number;
}

/** Reads a fixed header; undefined while incomplete; throws for a remaining length longer than 4 bytes. */
export function readFixedHeader(buffer: Buffer, offset = 0): FrameHeader | undefined {
  let multiplier = 1;
  let value = 0;
  for (let i = 1; i <= 4; i++) {
    if (offset + i >= buffer.length) return undefined;
    const byte = buffer[offset + i];
    value += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) return { headerLength: 1 + i, remainingLength: value };
    multiplier *= 128;
  }
  throw new Error('malformed remaining length from the broker');
}

function readVarint(buffer: Buffer, offset: number): { value: number; next: number } {
  let multiplier = 1;
  let value = 0;
  let pos = offset;
  for (;;) {
    const byte = buffer[pos++];
    value += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) return { value, next: pos };
    multiplier *= 128;
  }
}

export type PropertyValue = number | string | Buffer | [string, string];
export interface Property {
  id: number;
  value: PropertyValue;
}

const BYTE = new Set([0x01, 0x17, 0x19, 0x24, 0x25, 0x28, 0x29, 0x2a]);
const FOUR_BYTE = new Set([0x02, 0x11, 0x18, 0x27]);
const TWO_BYTE = new Set([0x13, 0x21, 0x22, 0x23]);
const STRING = new Set([0x03, 0x08, 0x12, 0x15, 0x1a, 0x1c, 0x1f]);
const BINARY = new Set([0x09, 0x16]);
export const PROP = {
  payloadFormatIndicator: 0x01,
  messageExpiryInterval: 0x02,
  contentType: 0x03,
  responseTopic: 0x08,
  correlationData: 0x09,
  subscriptionIdentifier: 0x0b,
  topicAlias: 0x23,
  reasonString: 0x1f,
  userProperty: 0x26,
} as const;

/** Decodes a property block starting at `offset` (its length prefix included), in wire order. */
export function decodeProperties(buffer: Buffer, offset: number): Property[] {
  const { value: length, next } = readVarint(buffer, offset);
  const end = next + length;
  const out: Property[] = [];
  let pos = next;
  const str = (): string => {
    const len = buffer.readUInt16BE(pos);
    const s = buffer.toString('utf8', pos + 2, pos + 2 + len);
    pos += 2 + len;
    return s;
  };
  while (pos < end) {
    const id = buffer[pos++];
    if (BYTE.has(id)) out.push({ id, value: buffer[pos++] });
    else if (TWO_BYTE.has(id)) {
      out.push({ id, value: buffer.readUInt16BE(pos) });
      pos += 2;
    } else if (FOUR_BYTE.has(id)) {
      out.push({ id, value: buffer.readUInt32BE(pos) });
      pos += 4;
    } else if (STRING.has(id)) out.push({ id, value: str() });
    else if (BINARY.has(id)) {
      const len = buffer.readUInt16BE(pos);
      out.push({ id, value: buffer.subarray(pos + 2, pos + 2 + len) });
      pos += 2 + len;
    } else if (id === 0x0b) {
      const v = readVarint(buffer, pos);
      out.push({ id, value: v.value });
      pos = v.next;
    } else if (id === 0x26) {
      const name = str();
      out.push({ id, value: [name, str()] });
    } else throw new Error(`unknown property id 0x${id.toString(16)}`);
  }
  return out;
}

/** The properties of a raw MQTT 5.0 PUBLISH packet, in wire order. */
export function publishProperties(raw: Buffer): Property[] {
  const header = readFixedHeader(raw);
  if (!header || (raw[0] & 0xf0) !== 0x30) throw new Error('not a PUBLISH packet');
  const qos = (raw[0] >> 1) & 0x03;
  let pos = header.headerLength;
  pos += 2 + raw.readUInt16BE(pos); // topic
  if (qos > 0) pos += 2; // packet identifier
  return decodeProperties(raw, pos);
}

/** User Properties of a raw MQTT 5.0 PUBLISH packet as [name, value] pairs in wire order. */
export function publishUserProperties(raw: Buffer): [string, string][] {
  return publishProperties(raw)
    .filter((p) => p.id === PROP.userProperty)
    .map((p) => p.value as [string, string]);
}

export interface ConnectBytesOptions {
  protocolName?: string;
  level?: number;
  /** Connect flags byte; default 0x02 (clean session / clean start). */
  flags?: number;
  keepalive?: number;
  clientId?: string;
  /** Whether to write a (empty) 5.0 property block; default: level === 5. */
  withProperties?: boolean;
}

/** A hand-built CONNECT packet, for values mqtt-packet refuses to generate (bad level, reserved flag...). */
export function connectBytes(options: ConnectBytesOptions = {}): Buffer {
  const { protocolName = 'MQTT', level = 4, flags = 0x02, keepalive = 0, clientId = 'raw-client' } = options;
  const withProperties = options.withProperties ?? level === 5;
  const keepAliveBytes = Buffer.alloc(2);
  keepAliveBytes.writeUInt16BE(keepalive);
  return packet(
    0x10,
    mqttString(protocolName),
    Buffer.from([level, flags]),
    keepAliveBytes,
    withProperties ? Buffer.from([0]) : Buffer.alloc(0),
    mqttString(clientId),
  );
}
