import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import { DecodeError, PacketDecoder, type Packet, type ProtocolVersion } from '../src';

export const MAX = 268_435_460;

/** Bytes from a hex string; spaces and line breaks are ignored. */
export function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

/** Length-prefixed UTF-8 string as hex, for hand-crafted packets. */
export function str(value: string): string {
  const bytes = Buffer.from(value, 'utf8');
  return bytes.length.toString(16).padStart(4, '0') + bytes.toString('hex');
}

export function decoder(version: ProtocolVersion = 4, maxPacketSize = MAX): PacketDecoder {
  const d = new PacketDecoder({ maxPacketSize });
  d.protocolVersion = version;
  return d;
}

/** Pushes the chunks in order and collects every packet. */
export function decodeChunks(chunks: Buffer[], version: ProtocolVersion = 4, maxPacketSize = MAX): Packet[] {
  const d = decoder(version, maxPacketSize);
  const out: Packet[] = [];
  for (const chunk of chunks) {
    d.push(chunk);
    for (let p = d.next(); p !== null; p = d.next()) out.push(p);
  }
  expect(d.pendingBytes).toBe(0);
  return out;
}

export function decodeOne(bytes: Buffer, version: ProtocolVersion = 4): Packet {
  const packets = decodeChunks([bytes], version);
  expect(packets).toHaveLength(1);
  return packets[0];
}

/** The DecodeError raised while decoding `bytes` (as one chunk). */
export function decodeError(bytes: Buffer, version: ProtocolVersion = 4, maxPacketSize = MAX): DecodeError {
  const d = decoder(version, maxPacketSize);
  d.push(bytes);
  try {
    while (d.next() !== null);
  } catch (err) {
    expect(err).toBeInstanceOf(DecodeError);
    return err as DecodeError;
  }
  throw new Error(`expected a DecodeError for ${bytes.toString('hex')}`);
}

/** Deterministic PRNG (mulberry32) so random splits are reproducible. */
export function rng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

export function randomSplit(bytes: Buffer, random: (n: number) => number, maxChunk: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let pos = 0; pos < bytes.length;) {
    const size = 1 + random(maxChunk);
    // Fresh copies, as a socket would deliver them.
    chunks.push(Buffer.from(bytes.subarray(pos, pos + size)));
    pos += size;
  }
  return chunks;
}

/**
 * One-byte chunks. Beyond `edge` bytes from either end (the inside of a big payload, where every
 * boundary behaves alike) the middle goes as one chunk to keep multi-megabyte cases fast.
 */
export function byteByByte(bytes: Buffer, edge = 8192): Buffer[] {
  const chunks: Buffer[] = [];
  const middleStart = bytes.length > 2 * edge ? edge : bytes.length;
  const middleEnd = bytes.length > 2 * edge ? bytes.length - edge : bytes.length;
  for (let i = 0; i < middleStart; i++) chunks.push(bytes.subarray(i, i + 1));
  if (middleEnd > middleStart) chunks.push(bytes.subarray(middleStart, middleEnd));
  for (let i = middleEnd; i < bytes.length; i++) chunks.push(bytes.subarray(i, i + 1));
  return chunks;
}

/**
 * A comparable form: Buffers become short strings (big ones hashed, so comparing 2 MB payloads is
 * cheap), undefined fields and empty property objects disappear.
 */
export function normalize(value: unknown): unknown {
  if (Buffer.isBuffer(value)) {
    if (value.length <= 64) return `hex:${value.toString('hex')}`;
    return `sha256:${value.length}:${createHash('sha256').update(value).digest('hex')}`;
  }
  if (Array.isArray(value)) return value.map(normalize);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(value)) {
      if (field === undefined) continue;
      if (key === 'properties' && Object.keys(field as object).length === 0) continue;
      out[key] = normalize(field);
    }
    return out;
  }
  return value;
}

/** A packet with the right remaining length for `body` (hex). */
export function pkt(b0: number, body: string): Buffer {
  const content = hex(body);
  const length: number[] = [];
  let n = content.length;
  do {
    length.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n >>= 7;
  } while (n > 0);
  return Buffer.concat([Buffer.from([b0, ...length]), content]);
}

/** CONNECT: protocol name, level, flags, keep alive 60, then `rest` (hex: [5.0 properties,] payload). */
export function connect(
  level: number,
  flags: number,
  rest = str('c'),
  name = level === 3 ? 'MQIsdp' : 'MQTT',
): Buffer {
  const flagsHex = flags.toString(16).padStart(2, '0');
  return pkt(0x10, str(name) + level.toString(16).padStart(2, '0') + flagsHex + '003c' + rest);
}
