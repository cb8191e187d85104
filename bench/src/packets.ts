import { generate, type QoS } from 'mqtt-packet';

// Packets are encoded once with mqtt-packet at setup; the hot paths only copy buffers and patch
// packet ids, so encoding cost never limits the load.

export const CONNACK = 2;
export const PUBLISH = 3;
export const PUBACK = 4;
export const PUBREC = 5;
export const PUBREL = 6;
export const PUBCOMP = 7;
export const SUBACK = 9;

/** MQTT 3.1.1 everywhere: Aedes does not speak 5.0, and the comparison must be like for like. */
export function connectPacket(clientId: string, keepalive: number, clean = true): Buffer {
  return generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean,
    clientId,
    keepalive,
  });
}

export function subscribePacket(messageId: number, topic: string, qos: QoS): Buffer {
  return generate({ cmd: 'subscribe', messageId, subscriptions: [{ topic, qos }] });
}

export interface PublishTemplate {
  bytes: Buffer;
  /** Offset of the packet id (QoS 1/2 only), patched per message. */
  idOffset: number;
  payloadOffset: number;
}

export function publishTemplate(topic: string, payloadSize: number, qos: QoS): PublishTemplate {
  const payload = Buffer.alloc(payloadSize, 0x61);
  const bytes = generate({ cmd: 'publish', topic, payload, qos, dup: false, retain: false, messageId: 1 });
  const headerLength = bytes.length - remainingLength(bytes.length);
  const idOffset = headerLength + 2 + Buffer.byteLength(topic);
  return { bytes, idOffset, payloadOffset: qos > 0 ? idOffset + 2 : idOffset };
}

/** Bytes after the fixed header for a packet of `total` bytes (1-byte type + varint length). */
function remainingLength(total: number): number {
  for (let lengthBytes = 1; lengthBytes <= 4; lengthBytes++) {
    const remaining = total - 1 - lengthBytes;
    if (remaining < 128 ** lengthBytes) return remaining;
  }
  throw new Error(`packet too large: ${total}`);
}

/** `count` copies of a QoS 0 publish back to back: one write puts a whole batch on the socket. */
export function publishBatch(template: PublishTemplate, count: number): Buffer {
  return Buffer.concat(Array.from({ length: count }, () => template.bytes));
}

/** Topic length + 2, i.e. where the packet id (QoS > 0) or payload (QoS 0) starts in a PUBLISH body. */
export function publishIdOffset(buf: Buffer, body: number): number {
  return body + 2 + buf.readUInt16BE(body);
}
