/**
 * The fuzz test's packet generator: a seeded PRNG, a corpus of valid packets of every type and protocol
 * version (generated with mqtt-packet), byte-level mutators, hand-built hostile packets (bad UTF-8, bad
 * 5.0 properties, zero packet ids, topic aliases, subscription ids, boundary lengths) and sequences that
 * are valid packet by packet but wrong in order. `planConnection(seed, id)` depends on nothing but its
 * arguments, so a seed reproduces every connection's bytes whatever the scheduling.
 */
import {
  generate,
  type IConnectPacket,
  type IDisconnectPacket,
  type IPubackPacket,
  type IPubcompPacket,
  type IPublishPacket,
  type IPubrecPacket,
  type IPubrelPacket,
  type ISubscribePacket,
  type ISubscription,
  type Packet,
  type QoS,
  type UserProperties,
} from 'mqtt-packet';
import { mqttString, packet, readFixedHeader, varint } from './frames';

export type FuzzVersion = 3 | 4 | 5;
export type PacketKind = 'valid' | 'mutated' | 'random' | 'hostile' | 'sequence';
export const PACKET_KINDS: readonly PacketKind[] = ['valid', 'mutated', 'random', 'hostile', 'sequence'];

/** mulberry32: tiny, fast and good enough to drive a fuzzer; the whole state is one 32-bit number. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  u32(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** In [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** In [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** In [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** One of `entries`, chosen with probability proportional to its weight. */
  weighted<T>(entries: readonly (readonly [number, T])[]): T {
    let total = 0;
    for (const [w] of entries) total += w;
    let x = this.float() * total;
    for (const [w, value] of entries) {
      x -= w;
      if (x < 0) return value;
    }
    return entries[entries.length - 1][1];
  }

  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let i = 0;
    for (; i + 4 <= n; i += 4) out.writeUInt32LE(this.u32(), i);
    for (; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

/** A 32-bit seed for connection `index` of run `seed` (murmur3's finaliser over both). */
export function connectionSeed(seed: number, index: number): number {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

// --- values ----------------------------------------------------------------------------------------------

/** Topics fuzz connections publish to: never the well-behaved clients' `wb/...` topics. */
const TOPICS = ['fz/a', 'fz/b', 'fz/a/b', 'fz/x/y/z', 'fz/retained/1', 'fz/retained/2', '$SYS/fz', 'fz/ü/€'];
/** Filters fuzz connections subscribe to; some match the well-behaved stream, as a real neighbour would. */
const FILTERS = [
  'fz/#',
  'fz/+',
  'fz/+/b',
  'fz/a',
  '#',
  '+/+/+',
  '$share/g1/fz/#',
  '$share/g2/#',
  '$SYS/#',
  'fz/a/b/c/d/e',
  '+',
];
/** Well-formed UTF-8 that is not a valid MQTT string, or not UTF-8 at all. */
const BAD_STRINGS: readonly Buffer[] = [
  Buffer.from([0x61, 0x00, 0x62]), // U+0000
  Buffer.from([0x00]),
  Buffer.from([0x66, 0x7a, 0x2f, 0xc3, 0x28]), // invalid 2-byte sequence
  Buffer.from([0xed, 0xa0, 0x80]), // UTF-16 surrogate half
  Buffer.from([0xc0, 0xaf]), // overlong '/'
  Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80]), // 5-byte form
  Buffer.from([0x80]), // lone continuation byte
  Buffer.from([0xe2, 0x82]), // truncated 3-byte sequence
  Buffer.from([0xf4, 0x90, 0x80, 0x80]), // above U+10FFFF
  Buffer.from([0xff, 0xfe]),
];
const INTERESTING_BYTES = [0x00, 0x01, 0x02, 0x03, 0x7f, 0x80, 0x81, 0xc0, 0xfe, 0xff];
const INTERESTING_U16 = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xfffe, 0xffff];
const INTERESTING_U32 = [0, 1, 0x7f, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
const INTERESTING_VARINT = [0, 1, 127, 128, 16383, 16384, 2097151, 2097152, 268435455];

function utf8(rng: Rng): string {
  return rng.weighted<() => string>([
    [6, () => `s${rng.int(1000)}`],
    [1, () => ''],
    [1, () => 'ü€😀'],
    [1, () => 'x'.repeat(rng.range(100, 2000))],
  ])();
}

function topic(rng: Rng): string {
  return rng.chance(0.7) ? rng.pick(TOPICS) : `fz/${rng.int(40)}/${rng.int(4)}`;
}

function filter(rng: Rng): string {
  return rng.chance(0.8) ? rng.pick(FILTERS) : `fz/${rng.int(40)}/+`;
}

function qos(rng: Rng): QoS {
  return rng.int(3) as QoS;
}

function packetId(rng: Rng): number {
  // A small pool makes ids collide with ones in flight, as a buggy client would.
  return rng.chance(0.5) ? rng.range(1, 8) : rng.range(1, 65535);
}

function payload(rng: Rng): Buffer {
  return rng.weighted<() => Buffer>([
    [5, () => Buffer.from(`p${rng.int(1e6)}`)],
    [2, () => rng.bytes(rng.int(64))],
    [1, () => Buffer.alloc(0)],
    [1, () => rng.bytes(rng.range(200, 4000))],
  ])();
}

function userProperties(rng: Rng): UserProperties {
  const props: UserProperties = {};
  const n = rng.range(1, 3);
  for (let i = 0; i < n; i++) {
    const key = rng.pick(['k', 'trace', 'traceparent', 'a', utf8(rng)]);
    props[key] = rng.chance(0.3) ? [utf8(rng), utf8(rng)] : utf8(rng);
  }
  return props;
}

// --- valid packets, generated by mqtt-packet ------------------------------------------------------------

/**
 * mqtt-packet caches the encoding of every variable byte integer below 16384 it generates, each a 4-byte
 * slice of Node's 8 KB Buffer pool. Filled lazily during a run, the cache pins a pool slab for almost every
 * entry (~16 MB), which would be charged to the broker sharing this process. Filling it once, up front,
 * packs it into a few slabs.
 */
export function warmGeneratorCache(): void {
  const payload = Buffer.alloc(16384);
  for (let n = 0; n <= 16380; n++) {
    generate({
      cmd: 'publish',
      topic: 'w',
      payload: payload.subarray(0, n),
      qos: 0,
      dup: false,
      retain: false,
    });
  }
}

/** What a connection told the broker, so that the packets after its CONNECT fit it. */
export interface ConnectionContext {
  version: FuzzVersion;
  clientId: string;
  /** Topic aliases this connection set (5.0), to use them again with an empty topic. */
  aliases: number[];
  /** The Maximum Packet Size the CONNECT announced (5.0), which nothing the broker sends may exceed. */
  maxPacketSize?: number;
}

function gen(p: Packet, version: FuzzVersion): Buffer {
  return generate(p, { protocolVersion: version });
}

const SHARED_CLIENT_IDS = ['fz-shared-0', 'fz-shared-1', 'fz-shared-2'];

/** A valid CONNECT for `version`: will, credentials, persistence and 5.0 properties at random. */
export function validConnect(
  rng: Rng,
  version: FuzzVersion,
  index: number,
): { ctx: ConnectionContext; bytes: Buffer } {
  const v5 = version === 5;
  // Shared ids make connections take each other's sessions over; '' asks for an assigned id.
  let clientId = rng.weighted<() => string>([
    [8, () => `fz-${index}`],
    [2, () => rng.pick(SHARED_CLIENT_IDS)],
    [1, () => ''],
  ])();
  const clean = rng.chance(0.7);
  // mqtt-packet will not generate an empty id for 3.1 or without a clean session (hostile CONNECTs do).
  if (clientId === '' && (!clean || version === 3)) clientId = `fz-${index}`;
  const connect: IConnectPacket = {
    cmd: 'connect',
    protocolId: version === 3 ? 'MQIsdp' : 'MQTT',
    protocolVersion: version,
    clientId,
    clean,
    keepalive: rng.pick([0, 0, 1, 2, 60, 65535]),
  };
  if (rng.chance(0.3)) {
    connect.will = {
      topic: rng.chance(0.9) ? topic(rng) : 'fz/will',
      payload: payload(rng),
      qos: qos(rng),
      retain: rng.chance(0.2),
    };
    if (v5 && rng.chance(0.5)) {
      connect.will.properties = {
        willDelayInterval: rng.pick([0, 1, 2, 1000]),
        messageExpiryInterval: rng.pick([1, 10, 100000]),
        contentType: 'text/plain',
        userProperties: userProperties(rng),
      };
    }
  }
  if (rng.chance(0.2)) {
    connect.username = utf8(rng);
    if (rng.chance(0.5)) connect.password = rng.bytes(rng.int(20));
  }
  if (v5 && rng.chance(0.7)) {
    connect.properties = {
      sessionExpiryInterval: rng.pick([0, 1, 5, 0xffffffff]),
      receiveMaximum: rng.pick([1, 2, 10, 65535]),
      maximumPacketSize: rng.pick([64, 200, 1024, 1048576, 268435455]),
      topicAliasMaximum: rng.pick([0, 1, 10, 65535]),
      requestProblemInformation: rng.chance(0.8),
      requestResponseInformation: rng.chance(0.2),
    };
    if (rng.chance(0.3)) connect.properties.userProperties = userProperties(rng);
  }
  const maxPacketSize = connect.properties?.maximumPacketSize;
  return { ctx: { version, clientId, aliases: [], maxPacketSize }, bytes: gen(connect, version) };
}

/** A valid packet a client may send (mostly) or only a server may (sometimes), for `ctx`'s version. */
export function validPacket(rng: Rng, ctx: ConnectionContext): Buffer {
  const v5 = ctx.version === 5;
  const v = ctx.version;
  const ack = (cmd: 'puback' | 'pubrec' | 'pubrel' | 'pubcomp'): Buffer => {
    const p = { cmd, messageId: packetId(rng) } as
      IPubackPacket | IPubrecPacket | IPubrelPacket | IPubcompPacket;
    if (v5 && rng.chance(0.4)) {
      p.reasonCode = rng.pick([0, 0x10, 0x80, 0x92, 0x97]);
      if (rng.chance(0.5)) p.properties = { reasonString: utf8(rng), userProperties: userProperties(rng) };
    }
    return gen(p, v);
  };
  return rng.weighted<() => Buffer>([
    [10, () => publish(rng, ctx)],
    [3, () => subscribe(rng, ctx)],
    [2, () => gen({ cmd: 'unsubscribe', messageId: packetId(rng), unsubscriptions: [filter(rng)] }, v)],
    [2, () => ack('puback')],
    [1, () => ack('pubrec')],
    [2, () => ack('pubrel')],
    [1, () => ack('pubcomp')],
    [2, () => gen({ cmd: 'pingreq' }, v)],
    [
      1,
      () => {
        const p: IDisconnectPacket = { cmd: 'disconnect' };
        if (v5 && rng.chance(0.5)) {
          p.reasonCode = rng.pick([0, 4, 0x80, 0x81]);
          if (rng.chance(0.5)) p.properties = { sessionExpiryInterval: rng.pick([0, 1, 3]) };
        }
        return gen(p, v);
      },
    ],
    [v5 ? 1 : 0, () => gen({ cmd: 'auth', reasonCode: rng.pick([0, 0x18, 0x19]) }, 5)],
    // Only a server sends these; a client that does is breaking the protocol with a well-formed packet.
    [0.3, () => gen({ cmd: 'connack', sessionPresent: false, returnCode: 0, reasonCode: 0 }, v)],
    [0.3, () => gen({ cmd: 'suback', messageId: packetId(rng), granted: [rng.pick([0, 1, 2, 0x80])] }, v)],
    [0.3, () => gen({ cmd: 'unsuback', messageId: packetId(rng), granted: [0] }, v)],
    [0.3, () => gen({ cmd: 'pingresp' }, v)],
    [0.3, () => validConnect(rng, ctx.version, 0).bytes],
  ])();
}

function publish(rng: Rng, ctx: ConnectionContext, forceQos?: QoS, id?: number): Buffer {
  const q = forceQos ?? qos(rng);
  const p: IPublishPacket = {
    cmd: 'publish',
    topic: topic(rng),
    payload: payload(rng),
    qos: q,
    dup: q > 0 && rng.chance(0.1),
    retain: rng.chance(0.15),
  };
  if (q > 0) p.messageId = id ?? packetId(rng);
  if (ctx.version === 5 && rng.chance(0.5)) {
    p.properties = {};
    if (rng.chance(0.3)) p.properties.payloadFormatIndicator = rng.chance(0.5);
    if (rng.chance(0.3)) p.properties.messageExpiryInterval = rng.pick([0, 1, 60, 0xffffffff]);
    if (rng.chance(0.2)) p.properties.contentType = utf8(rng);
    if (rng.chance(0.2)) p.properties.responseTopic = topic(rng);
    if (rng.chance(0.2)) p.properties.correlationData = rng.bytes(rng.int(16));
    if (rng.chance(0.3)) p.properties.userProperties = userProperties(rng);
    if (rng.chance(0.3)) {
      // Set an alias (1-10, within the broker's maximum) or use one set earlier with an empty topic.
      if (ctx.aliases.length > 0 && rng.chance(0.5)) {
        p.properties.topicAlias = rng.pick(ctx.aliases);
        p.topic = '';
      } else {
        const alias = rng.range(1, 10);
        ctx.aliases.push(alias);
        p.properties.topicAlias = alias;
      }
    }
  }
  return gen(p, ctx.version);
}

function subscribe(rng: Rng, ctx: ConnectionContext): Buffer {
  const v5 = ctx.version === 5;
  const n = rng.range(1, 3);
  const subscriptions = Array.from({ length: n }, () => {
    const f = filter(rng);
    const sub: ISubscription = { topic: f, qos: qos(rng) };
    if (v5) {
      sub.nl = !f.startsWith('$share/') && rng.chance(0.3);
      sub.rap = rng.chance(0.3);
      sub.rh = rng.int(3);
    }
    return sub;
  });
  const p: ISubscribePacket = { cmd: 'subscribe', messageId: packetId(rng), subscriptions };
  if (v5 && rng.chance(0.4)) p.properties = { subscriptionIdentifier: rng.range(1, 268435455) };
  return gen(p, ctx.version);
}

// --- byte-level mutations -------------------------------------------------------------------------------

/** Rewrites the fixed header's remaining length to `length`, keeping the body as it is. */
function withRemainingLength(buf: Buffer, length: number): Buffer {
  const header = readFixedHeader(buf);
  if (!header) return buf;
  return Buffer.concat([buf.subarray(0, 1), varint(length), buf.subarray(header.headerLength)]);
}

function bodyOf(buf: Buffer): Buffer {
  try {
    const header = readFixedHeader(buf);
    return header ? buf.subarray(header.headerLength) : buf.subarray(1);
  } catch {
    return buf.subarray(1);
  }
}

const MUTATORS: readonly (readonly [number, (rng: Rng, buf: Buffer) => Buffer])[] = [
  [
    4,
    (rng, buf) => {
      // bit flips
      const out = Buffer.from(buf);
      for (let n = rng.range(1, 4); n > 0; n--) out[rng.int(out.length)] ^= 1 << rng.int(8);
      return out;
    },
  ],
  [
    3,
    (rng, buf) => {
      // an interesting byte somewhere
      const out = Buffer.from(buf);
      out[rng.int(out.length)] = rng.chance(0.7) ? rng.pick(INTERESTING_BYTES) : rng.int(256);
      return out;
    },
  ],
  [
    2,
    (rng, buf) => {
      // byte insertion
      const at = rng.int(buf.length + 1);
      return Buffer.concat([buf.subarray(0, at), rng.bytes(rng.range(1, 8)), buf.subarray(at)]);
    },
  ],
  [
    2,
    (rng, buf) => {
      // byte deletion
      const at = rng.int(buf.length);
      return Buffer.concat([buf.subarray(0, at), buf.subarray(at + rng.range(1, 8))]);
    },
  ],
  [2, (rng, buf) => buf.subarray(0, rng.range(1, Math.max(1, buf.length - 1)))], // truncation
  [
    3,
    (rng, buf) => {
      // wrong remaining length: a little off, or anything
      const body = bodyOf(buf);
      const length = rng.chance(0.7)
        ? Math.max(0, body.length + rng.pick([-3, -2, -1, 1, 2, 3, 8, 100]))
        : rng.pick(INTERESTING_VARINT);
      return Buffer.concat([buf.subarray(0, 1), varint(length), body]);
    },
  ],
  [
    1,
    (rng, buf) => {
      // huge remaining length (0xFFFFFF7F = 268435455), or an encoding longer than 4 bytes
      const header = rng.pick([
        [0xff, 0xff, 0xff, 0x7f],
        [0xff, 0xff, 0xff, 0xff, 0x01],
        [0x80, 0x80, 0x80, 0x80, 0x00],
        [0xff, 0xff, 0x7f],
      ]);
      return Buffer.concat([buf.subarray(0, 1), Buffer.from(header), bodyOf(buf).subarray(0, rng.int(64))]);
    },
  ],
  [
    2,
    (rng, buf) => {
      // bad fixed-header flags: any nibble, or PUBLISH QoS 3 / DUP on QoS 0
      const out = Buffer.from(buf);
      if (out[0] >> 4 === 3 && rng.chance(0.6))
        out[0] = rng.chance(0.5) ? out[0] | 0x06 : (out[0] & 0xf1) | 0x08;
      else out[0] = (out[0] & 0xf0) | rng.int(16);
      return out;
    },
  ],
  [
    1,
    (rng, buf) => {
      // another packet type with this body
      const out = Buffer.from(buf);
      out[0] = (rng.int(16) << 4) | (out[0] & 0x0f);
      return out;
    },
  ],
  [
    1,
    (rng, buf) => {
      // a slice of the packet repeated inside it
      const from = rng.int(buf.length);
      const slice = buf.subarray(from, from + rng.range(1, 16));
      const at = rng.int(buf.length + 1);
      return Buffer.concat([buf.subarray(0, at), slice, buf.subarray(at)]);
    },
  ],
];

/** One to three mutations of a valid packet; the result is never empty. */
export function mutate(rng: Rng, buf: Buffer): Buffer {
  let out = buf;
  for (let n = rng.chance(0.7) ? 1 : rng.range(2, 3); n > 0; n--) {
    if (out.length === 0) out = rng.bytes(1);
    out = rng.weighted(MUTATORS)(rng, out);
  }
  return out.length > 0 ? out : rng.bytes(1);
}

/** Bytes that were never a packet; sometimes behind a plausible first byte, so the framing is exercised. */
export function randomBytes(rng: Rng): Buffer {
  const length = rng.weighted<number>([
    [5, rng.range(1, 16)],
    [3, rng.range(17, 200)],
    [1, rng.range(201, 2000)],
  ]);
  const out = rng.bytes(length);
  if (rng.chance(0.3)) out[0] = (rng.range(1, 15) << 4) | (rng.chance(0.5) ? 0 : 2);
  return out;
}

// --- hand-built hostile packets ------------------------------------------------------------------------

function u16(value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(value & 0xffff);
  return b;
}

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value >>> 0);
  return b;
}

type PropType = 'byte' | 'u16' | 'u32' | 'varint' | 'str' | 'bin' | 'pair';
/** Every 5.0 property id with its value type (spec 2.2.2.2). */
const PROPERTY_TYPES: readonly (readonly [number, PropType])[] = [
  [0x01, 'byte'],
  [0x02, 'u32'],
  [0x03, 'str'],
  [0x08, 'str'],
  [0x09, 'bin'],
  [0x0b, 'varint'],
  [0x11, 'u32'],
  [0x12, 'str'],
  [0x13, 'u16'],
  [0x15, 'str'],
  [0x16, 'bin'],
  [0x17, 'byte'],
  [0x18, 'u32'],
  [0x19, 'byte'],
  [0x1a, 'str'],
  [0x1c, 'str'],
  [0x1f, 'str'],
  [0x21, 'u16'],
  [0x22, 'u16'],
  [0x23, 'u16'],
  [0x24, 'byte'],
  [0x25, 'byte'],
  [0x26, 'pair'],
  [0x27, 'u32'],
  [0x28, 'byte'],
  [0x29, 'byte'],
  [0x2a, 'byte'],
];

function stringBytes(rng: Rng): Buffer {
  return rng.chance(0.3) ? rng.pick(BAD_STRINGS) : Buffer.from(utf8(rng));
}

/** One property of any id with a value of its type, often a boundary value. */
function anyProperty(rng: Rng, id: number, type: PropType): Buffer {
  const value = ((): Buffer => {
    switch (type) {
      case 'byte':
        return Buffer.from([rng.pick([0, 1, 2, 0xff])]);
      case 'u16':
        return u16(rng.pick(INTERESTING_U16));
      case 'u32':
        return u32(rng.pick(INTERESTING_U32));
      case 'varint':
        return varint(rng.pick(INTERESTING_VARINT));
      case 'str':
        return mqttString(stringBytes(rng));
      case 'bin':
        return mqttString(rng.bytes(rng.int(20)));
      case 'pair':
        return Buffer.concat([mqttString(stringBytes(rng)), mqttString(stringBytes(rng))]);
    }
  })();
  return Buffer.concat([Buffer.from([id]), value]);
}

/** A 5.0 property block that is wrong: unknown, duplicated, misplaced or out-of-range properties, bad lengths. */
function hostileProperties(rng: Rng): Buffer {
  const props: Buffer[] = [];
  for (let n = rng.range(1, 4); n > 0; n--) {
    props.push(
      rng.weighted<() => Buffer>([
        // any property (misplaced most of the time), with a boundary value
        [6, () => anyProperty(rng, ...rng.pick(PROPERTY_TYPES))],
        // unknown identifiers, including a 2-byte varint identifier
        [2, () => Buffer.from([rng.pick([0x00, 0x04, 0x2b, 0x7f, 0xff, 0x80]), rng.int(256)])],
        // duplicated (Payload Format Indicator, Content Type, Topic Alias)
        [2, () => Buffer.from([0x01, 0x01, 0x01, 0x01])],
        [
          1,
          () => Buffer.concat([Buffer.from([0x03]), mqttString('a'), Buffer.from([0x03]), mqttString('b')]),
        ],
        [1, () => Buffer.from([0x23, 0x00, 0x01, 0x23, 0x00, 0x02])],
        // Authentication Data without a method; Subscription Identifier 0
        [1, () => Buffer.concat([Buffer.from([0x16]), mqttString(Buffer.from([1, 2]))])],
        [1, () => Buffer.from([0x0b, 0x00])],
      ])(),
    );
  }
  const body = Buffer.concat(props);
  const length = rng.weighted<number>([
    [8, body.length],
    [1, body.length + rng.range(1, 10)], // overruns the packet
    [1, Math.max(0, body.length - rng.range(1, 3))], // cuts the last property
  ]);
  if (rng.chance(0.05)) return Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff, 0x7f]), body]);
  return Buffer.concat([varint(length), body]);
}

function props5(ctx: ConnectionContext, block: Buffer = Buffer.from([0])): Buffer {
  return ctx.version === 5 ? block : Buffer.alloc(0);
}

/** A string of exactly `length` bytes (65535 is the most a length prefix can say). */
function longString(length: number, prefix: string, fill = 'x'): Buffer {
  return Buffer.concat([Buffer.from(prefix), Buffer.alloc(length - prefix.length, fill)]);
}

/**
 * Packets that are wrong in one precise way the specification names (or at a boundary), built by hand
 * because mqtt-packet will not generate most of them.
 */
export function hostilePacket(rng: Rng, ctx: ConnectionContext, topicAliasMaximum: number): Buffer {
  const v5 = ctx.version === 5;
  const pid = u16(packetId(rng));
  const publishBytes = (b0: number, topicBytes: Buffer, id: Buffer | null, properties: Buffer): Buffer =>
    packet(b0, mqttString(topicBytes), id ?? Buffer.alloc(0), props5(ctx, properties), payload(rng));
  const aliasProps = (alias: number): Buffer => Buffer.from([3, 0x23, alias >> 8, alias & 0xff]);
  return rng.weighted<() => Buffer>([
    // PUBLISH QoS 3, DUP on QoS 0
    [2, () => publishBytes(0x36, Buffer.from(topic(rng)), pid, Buffer.from([0]))],
    [1, () => publishBytes(0x38, Buffer.from(topic(rng)), null, Buffer.from([0]))],
    // bad UTF-8 and U+0000 in topic names, filters, will topics
    [
      3,
      () =>
        publishBytes(
          0x30 | (rng.int(3) << 1),
          rng.pick(BAD_STRINGS),
          rng.chance(0.5) ? pid : null,
          Buffer.from([0]),
        ),
    ],
    [2, () => packet(0x82, pid, props5(ctx), mqttString(rng.pick(BAD_STRINGS)), Buffer.from([rng.int(3)]))],
    [1, () => packet(0xa2, pid, props5(ctx), mqttString(rng.pick(BAD_STRINGS)))],
    // zero packet identifiers
    [1, () => publishBytes(0x32, Buffer.from(topic(rng)), u16(0), Buffer.from([0]))],
    [1, () => publishBytes(0x34, Buffer.from(topic(rng)), u16(0), Buffer.from([0]))],
    [1, () => packet(0x82, u16(0), props5(ctx), mqttString(filter(rng)), Buffer.from([1]))],
    [1, () => packet(0xa2, u16(0), props5(ctx), mqttString(filter(rng)))],
    [1, () => packet(rng.pick([0x40, 0x50, 0x62, 0x70]), u16(0))],
    // wildcards and emptiness in a topic name
    [
      1,
      () =>
        publishBytes(0x30, Buffer.from(rng.pick(['fz/#', 'fz/+/a', '+', '#', ''])), null, Buffer.from([0])),
    ],
    // topic aliases: 0, above the maximum, the largest, and one never set
    [
      v5 ? 3 : 0,
      () => {
        const alias = rng.pick([0, topicAliasMaximum + 1, 0xffff, rng.range(1, topicAliasMaximum)]);
        return publishBytes(0x30, Buffer.from(rng.chance(0.5) ? '' : topic(rng)), null, aliasProps(alias));
      },
    ],
    // subscription identifiers: 0, the largest, two of them, one in a PUBLISH from a client
    [
      v5 ? 2 : 0,
      () => {
        const ids = rng.pick([[0], [268435455], [1, 2], [0, 0]]);
        const block = Buffer.concat(ids.map((id) => Buffer.concat([Buffer.from([0x0b]), varint(id)])));
        return packet(0x82, pid, varint(block.length), block, mqttString(filter(rng)), Buffer.from([1]));
      },
    ],
    [v5 ? 1 : 0, () => publishBytes(0x30, Buffer.from(topic(rng)), null, Buffer.from([2, 0x0b, 0x01]))],
    // invalid, duplicate, misplaced 5.0 properties in any packet
    [
      v5 ? 6 : 0,
      () =>
        rng.weighted<() => Buffer>([
          [
            3,
            () =>
              publishBytes(
                0x30 | (rng.int(3) << 1),
                Buffer.from(topic(rng)),
                rng.chance(0.5) ? pid : null,
                hostileProperties(rng),
              ),
          ],
          [2, () => packet(0x82, pid, hostileProperties(rng), mqttString(filter(rng)), Buffer.from([1]))],
          [1, () => packet(0xa2, pid, hostileProperties(rng), mqttString(filter(rng)))],
          [
            1,
            () => packet(rng.pick([0x40, 0x50, 0x62, 0x70]), pid, Buffer.from([0]), hostileProperties(rng)),
          ],
          [1, () => packet(0xe0, Buffer.from([rng.pick([0, 4, 0x80])]), hostileProperties(rng))],
          [1, () => packet(0xf0, Buffer.from([rng.pick([0, 0x18, 0x19])]), hostileProperties(rng))],
          [1, () => publishBytes(0x31, Buffer.from(topic(rng)), null, Buffer.from([2, 0x01, 0x01]))], // PFI 1, payload may be binary
        ])(),
    ],
    // subscription options: QoS 3, reserved bits, Retain Handling 3, No Local on a shared subscription
    [
      2,
      () => {
        const options = rng.pick([0x03, 0xc0, 0xfc, 0x30, 0x04, 0x40]);
        const f = options === 0x04 ? '$share/g/fz/#' : filter(rng);
        return packet(0x82, pid, props5(ctx), mqttString(f), Buffer.from([options]));
      },
    ],
    // SUBSCRIBE / UNSUBSCRIBE without a filter; empty remaining lengths where a body is required
    [1, () => packet(rng.pick([0x82, 0xa2]), pid, props5(ctx))],
    [1, () => Buffer.from([rng.pick([0x30, 0x32, 0x82, 0xa2, 0x40, 0x10]), 0x00])],
    // boundary lengths: 65535-byte topics and filters, filters whose rejection quotes them back
    [
      1,
      () => {
        const which = rng.int(5);
        if (which === 0) return publishBytes(0x30, longString(65535, 'fz/'), null, Buffer.from([0]));
        if (which === 1)
          return packet(0x82, pid, props5(ctx), mqttString(longString(65535, 'fz/')), Buffer.from([1]));
        if (which === 2)
          return packet(0x82, pid, props5(ctx), mqttString(longString(65535, 'fz/#')), Buffer.from([1]));
        if (which === 3)
          return packet(0x82, pid, props5(ctx), mqttString(longString(65535, 'fz/')), Buffer.from([3]));
        // two rejected 40000-byte filters
        const bad = mqttString(longString(40000, 'fz/a+'));
        return packet(0x82, pid, props5(ctx), bad, Buffer.from([1]), bad, Buffer.from([1]));
      },
    ],
    // many topic levels, many user properties
    [
      1,
      () =>
        publishBytes(
          0x30,
          Buffer.from(Array.from({ length: 300 }, () => 'a').join('/')),
          null,
          Buffer.from([0]),
        ),
    ],
    [
      v5 ? 1 : 0,
      () => {
        const up = Buffer.concat(
          Array.from({ length: 2000 }, () => Buffer.from([0x26, 0, 1, 0x6b, 0, 1, 0x76])),
        );
        return publishBytes(0x30, Buffer.from(topic(rng)), null, Buffer.concat([varint(up.length), up]));
      },
    ],
    // a huge remaining length, then a little of the body
    [2, () => Buffer.concat([Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f]), rng.bytes(rng.int(100))])],
    // reserved packet types
    [1, () => Buffer.from([0x00, 0x00])],
    [v5 ? 0 : 1, () => Buffer.from([0xf0, 0x00])],
    // a PUBLISH whose payload format indicator says UTF-8 but whose payload is not
    [
      v5 ? 1 : 0,
      () => packet(0x32, mqttString('fz/pfi'), pid, Buffer.from([2, 0x01, 0x01]), Buffer.from([0xff, 0xfe])),
    ],
    // a CONNECT after CONNECT (hostile variants as well)
    [1, () => hostileConnect(rng, ctx.version)],
  ])();
}

/** A CONNECT that is wrong: protocol name or level, flags, will, credentials, client id, 5.0 properties. */
export function hostileConnect(rng: Rng, version: FuzzVersion): Buffer {
  const v5 = version === 5;
  const name = version === 3 ? 'MQIsdp' : 'MQTT';
  const build = (o: {
    name?: Buffer;
    level?: number;
    flags?: number;
    keepAlive?: number;
    props?: Buffer;
    clientId?: Buffer;
    will?: Buffer;
    username?: Buffer;
    password?: Buffer;
  }): Buffer =>
    packet(
      0x10,
      mqttString(o.name ?? Buffer.from(name)),
      Buffer.from([o.level ?? version, o.flags ?? 0x02]),
      u16(o.keepAlive ?? 30),
      v5 ? (o.props ?? Buffer.from([0])) : Buffer.alloc(0),
      mqttString(o.clientId ?? Buffer.from(`fz-h${rng.int(1000)}`)),
      o.will ?? Buffer.alloc(0),
      o.username ?? Buffer.alloc(0),
      o.password ?? Buffer.alloc(0),
    );
  const will = (t: Buffer, willProps?: Buffer): Buffer =>
    Buffer.concat([v5 ? (willProps ?? Buffer.from([0])) : Buffer.alloc(0), mqttString(t), mqttString('bye')]);
  return rng.weighted<() => Buffer>([
    [
      2,
      () =>
        build({
          name: Buffer.from(rng.pick(['MQTT', 'MQIsdp', 'mqtt', 'MQTTT', ''])),
          level: rng.pick([0, 1, 2, 3, 4, 5, 6, 0x84, 0xff]),
        }),
    ],
    [1, () => build({ name: rng.pick(BAD_STRINGS) })],
    [2, () => build({ flags: rng.pick([0x01, 0x03, 0x18, 0x1c, 0x20, 0x08, 0x40, 0xff]) })],
    [
      2,
      () =>
        build({
          clientId: rng.chance(0.5) ? rng.pick(BAD_STRINGS) : longString(rng.pick([257, 65535]), 'fz-'),
        }),
    ],
    [1, () => build({ clientId: Buffer.alloc(0), flags: 0x00 })],
    [
      2,
      () =>
        build({
          flags: 0x06 | (rng.int(4) << 3),
          will: will(rng.pick([...BAD_STRINGS, Buffer.from('fz/#'), Buffer.alloc(0)])),
        }),
    ],
    [v5 ? 2 : 0, () => build({ flags: 0x06, will: will(Buffer.from('fz/will'), hostileProperties(rng)) })],
    [
      1,
      () => build({ flags: 0xc2, username: mqttString(rng.pick(BAD_STRINGS)), password: mqttString('pw') }),
    ],
    [1, () => build({ flags: 0x42, password: mqttString('pw') })],
    [1, () => build({ keepAlive: rng.pick([0, 1, 0xffff]) })],
    [v5 ? 4 : 0, () => build({ props: hostileProperties(rng) })],
    [
      v5 ? 2 : 0,
      () => {
        // Receive Maximum 0, Maximum Packet Size 0 or tiny, Topic Alias Maximum 65535, an auth method
        const p = rng.pick([
          Buffer.from([0x21, 0, 0]),
          Buffer.from([0x27, 0, 0, 0, 0]),
          Buffer.from([0x27, 0, 0, 0, rng.range(1, 30)]),
          Buffer.from([0x22, 0xff, 0xff]),
          Buffer.concat([Buffer.from([0x15]), mqttString('SCRAM-SHA-1')]),
          Buffer.from([0x17, 0x00, 0x11, 0xff, 0xff, 0xff, 0xff]),
        ]);
        return build({ props: Buffer.concat([varint(p.length), p]) });
      },
    ],
    // a truncated CONNECT: the remaining length says more than the client id holds
    [1, () => withRemainingLength(build({}), build({}).length + rng.range(1, 40))],
  ])();
}

// --- sequences valid packet by packet but wrong in order ------------------------------------------------

/** Packets that are each valid but come in an order the protocol forbids or that the broker must tolerate. */
function sequence(rng: Rng, ctx: ConnectionContext): Buffer[] {
  const v = ctx.version;
  const v5 = v === 5;
  const id = packetId(rng);
  return rng.weighted<() => Buffer[]>([
    [2, () => [gen({ cmd: 'pubrel', messageId: id }, v)]], // PUBREL before any PUBLISH
    [1, () => [gen({ cmd: 'puback', messageId: id }, v), gen({ cmd: 'pubcomp', messageId: id }, v)]],
    [1, () => [gen({ cmd: 'pubrec', messageId: id }, v)]],
    [2, () => [gen({ cmd: 'suback', messageId: id, granted: [0] }, v)]], // SUBACK from a client
    [1, () => [gen({ cmd: 'unsuback', messageId: id, granted: [0] }, v)]],
    [1, () => [gen({ cmd: 'connack', sessionPresent: false, returnCode: 0, reasonCode: 0 }, v)]],
    [1, () => [gen({ cmd: 'pingresp' }, v)]],
    [2, () => [validConnect(rng, ctx.version, 1e9).bytes]], // second CONNECT
    [
      v5 ? 2 : 0,
      () => [
        gen(
          { cmd: 'auth', reasonCode: rng.pick([0, 0x18, 0x19]), properties: { authenticationMethod: 'x' } },
          5,
        ),
      ],
    ],
    [
      2,
      () => [
        // QoS 2 twice with one id, then PUBREL twice
        publish(rng, ctx, 2, id),
        publish(rng, ctx, 2, id),
        gen({ cmd: 'pubrel', messageId: id }, v),
        gen({ cmd: 'pubrel', messageId: id }, v),
      ],
    ],
    [
      2,
      () => [
        // subscribe, unsubscribe twice, subscribe again with another QoS
        gen({ cmd: 'subscribe', messageId: id, subscriptions: [{ topic: 'fz/#', qos: 1 }] }, v),
        gen({ cmd: 'unsubscribe', messageId: id, unsubscriptions: ['fz/#'] }, v),
        gen({ cmd: 'unsubscribe', messageId: id, unsubscriptions: ['fz/#'] }, v),
        gen({ cmd: 'subscribe', messageId: id, subscriptions: [{ topic: 'fz/#', qos: 2 }] }, v),
        publish(rng, ctx, 1, id),
      ],
    ],
    [
      2,
      () => [
        // subscribe to what we publish, then acknowledge our own publish and ids we were never sent
        gen({ cmd: 'subscribe', messageId: id, subscriptions: [{ topic: 'fz/echo', qos: 2 }] }, v),
        gen(
          {
            cmd: 'publish',
            topic: 'fz/echo',
            payload: Buffer.from('e'),
            qos: 2,
            messageId: id,
            dup: false,
            retain: false,
          },
          v,
        ),
        gen({ cmd: 'puback', messageId: id }, v),
        gen({ cmd: 'pubrec', messageId: 1 }, v),
        gen({ cmd: 'pubcomp', messageId: 1 }, v),
        gen({ cmd: 'pubrel', messageId: id }, v),
      ],
    ],
    [
      v5 ? 2 : 0,
      () => [
        // an alias used before it is set, then set, then used
        publishAlias(rng, '', 3),
        publishAlias(rng, 'fz/alias', 3),
        publishAlias(rng, '', 3),
      ],
    ],
    [
      v5 ? 1 : 0,
      () => [
        // DISCONNECT setting a Session Expiry Interval after CONNECT said 0
        gen({ cmd: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: 100 } }, 5),
      ],
    ],
    [
      2,
      () => [
        // DISCONNECT, then more packets on the same connection
        gen({ cmd: 'disconnect', reasonCode: v5 ? rng.pick([0, 4]) : undefined }, v),
        publish(rng, ctx),
        gen({ cmd: 'pingreq' }, v),
      ],
    ],
  ])();
}

function publishAlias(rng: Rng, t: string, alias: number): Buffer {
  return gen(
    {
      cmd: 'publish',
      topic: t,
      payload: payload(rng),
      qos: 0,
      dup: false,
      retain: false,
      properties: { topicAlias: alias },
    },
    5,
  );
}

/** Packets that are valid on their own but may not come before CONNECT. */
function beforeConnect(rng: Rng, version: FuzzVersion): Buffer {
  const ctx: ConnectionContext = { version, clientId: '', aliases: [] };
  return rng.weighted<() => Buffer>([
    [3, () => publish(rng, ctx)],
    [2, () => subscribe(rng, ctx)],
    [1, () => gen({ cmd: 'pingreq' }, version)],
    [1, () => gen({ cmd: 'disconnect' }, version)],
    [1, () => gen({ cmd: 'pubrel', messageId: 1 }, version)],
    [version === 5 ? 1 : 0, () => gen({ cmd: 'auth', reasonCode: 0x18 }, 5)],
  ])();
}

// --- connection plans -----------------------------------------------------------------------------------

export type EndMode = 'fin' | 'rst' | 'wait' | 'linger';

/** Everything one fuzz connection does, decided up front from (seed, id). */
export interface ConnectionPlan {
  id: number;
  /** Written in order, with a turn of the event loop between two chunks (packets straddle chunks). */
  chunks: Buffer[];
  /** Packets thrown, by kind. */
  kinds: Record<PacketKind, number>;
  /**
   * fin: half-close after writing and expect the broker to close too; rst: reset the connection;
   * wait: keep it open `waitMs`, then destroy it; linger: never CONNECTed, so wait for the broker's
   * connect timeout to close it (it must, within `waitMs`).
   */
  end: EndMode;
  waitMs: number;
  /** False: never read what the broker sends (its writes back up). */
  read: boolean;
  /** Wait this long before connecting (to pace a flood); 0 when absent. */
  delayMs?: number;
  /** The Maximum Packet Size the connection's CONNECT announced, if any (5.0). */
  maxPacketSize?: number;
}

/**
 * How long past the connect timeout a connection that never sent CONNECT may stay open. The broker closes it
 * within a sweep (250 ms) of the timeout; the rest is for a broker sharing 2 cores with a whole CI run, where
 * one such connection was once not seen closed within 2 s past it.
 */
const LINGER_GRACE_MS = 5000;

export interface PlanOptions {
  connectTimeoutMs: number;
  topicAliasMaximum: number;
}

function burstLength(rng: Rng): number {
  if (rng.chance(0.02)) return rng.range(40, 120);
  return 1 + Math.min(40, Math.floor(-Math.log(1 - rng.float()) * 6));
}

/** The plan of fuzz connection `id` of run `seed`. */
export function planConnection(seed: number, id: number, options: PlanOptions): ConnectionPlan {
  const rng = new Rng(connectionSeed(seed, id));
  const kinds: Record<PacketKind, number> = { valid: 0, mutated: 0, random: 0, hostile: 0, sequence: 0 };
  const packets: Buffer[] = [];
  const add = (kind: PacketKind, bytes: Buffer): void => {
    kinds[kind]++;
    packets.push(bytes);
  };
  const version = rng.weighted<FuzzVersion>([
    [1, 3],
    [4, 4],
    [5, 5],
  ]);
  /** Whether anything resembling a CONNECT was sent: only connections without one must be timed out. */
  let attemptedConnect = false;
  let ctx: ConnectionContext = { version, clientId: '', aliases: [] };
  /** CONNECT first: valid mostly, sometimes mutated or hostile, sometimes none at all. */
  const connectFirst = (pValid: number): void => {
    const r = rng.float();
    attemptedConnect = true;
    if (r < pValid) {
      const c = validConnect(rng, version, id);
      ctx = c.ctx;
      add('valid', c.bytes);
    } else if (r < pValid + (1 - pValid) * 0.5)
      add('mutated', mutate(rng, validConnect(rng, version, id).bytes));
    else if (r < pValid + (1 - pValid) * 0.8) add('hostile', hostileConnect(rng, version));
  };

  const shape = rng.weighted<string>([
    [15, 'random'],
    [40, 'mutated'],
    [25, 'hostile'],
    [15, 'sequence'],
    [5, 'before-connect'],
  ]);
  switch (shape) {
    case 'random': {
      if (rng.chance(0.4)) connectFirst(1);
      for (let n = rng.range(1, 8); n > 0; n--) add('random', randomBytes(rng));
      break;
    }
    case 'mutated': {
      connectFirst(0.85);
      const pMutate = rng.pick([0.3, 0.5, 0.8]);
      for (let n = burstLength(rng); n > 0; n--) {
        const valid = validPacket(rng, ctx);
        if (rng.chance(pMutate)) add('mutated', mutate(rng, valid));
        else add('valid', valid);
      }
      break;
    }
    case 'hostile': {
      connectFirst(0.9);
      for (let n = rng.int(4); n > 0; n--) add('valid', validPacket(rng, ctx));
      for (let n = rng.range(1, 2); n > 0; n--)
        add('hostile', hostilePacket(rng, ctx, options.topicAliasMaximum));
      for (let n = rng.int(3); n > 0; n--) add('valid', validPacket(rng, ctx));
      break;
    }
    case 'sequence': {
      connectFirst(1);
      if (rng.chance(0.015)) {
        // QoS 2 publishes never released: fine up to the broker's Receive Maximum (256), then too many.
        for (let i = 1; i <= 256; i++) add('valid', publish(rng, ctx, 2, i));
        const over = rng.range(1, 20);
        for (let i = 1; i <= over; i++) add('sequence', publish(rng, ctx, 2, 256 + i));
        break;
      }
      for (let n = rng.int(3); n > 0; n--) add('valid', validPacket(rng, ctx));
      for (const bytes of sequence(rng, ctx)) add('sequence', bytes);
      break;
    }
    default: {
      // Packets before CONNECT; or only part of a fixed header, then silence.
      if (rng.chance(0.7)) add('sequence', beforeConnect(rng, version));
      else add('random', Buffer.from(rng.pick([[0x10], [0x10, 0xff], [0x30, 0x80, 0x80]])));
    }
  }

  const stream = Buffer.concat(packets);
  // Cut the stream anywhere into up to 4 chunks, so packets and fixed headers straddle reads.
  const cuts = new Set<number>();
  for (
    let n = rng.weighted<number>([
      [5, 0],
      [3, 1],
      [2, 3],
    ]);
    n > 0 && stream.length > 1;
    n--
  ) {
    cuts.add(rng.range(1, stream.length - 1));
  }
  const bounds = [0, ...[...cuts].sort((a, b) => a - b), stream.length];
  const chunks: Buffer[] = [];
  for (let i = 1; i < bounds.length; i++) chunks.push(stream.subarray(bounds[i - 1], bounds[i]));

  const read = rng.chance(0.9);
  let end: EndMode;
  let waitMs = 0;
  if (!attemptedConnect && rng.chance(0.25)) {
    end = 'linger';
    waitMs = options.connectTimeoutMs + LINGER_GRACE_MS;
  } else {
    end = rng.weighted<EndMode>([
      [read ? 4 : 0, 'fin'],
      [2, 'rst'],
      [4, 'wait'],
    ]);
    waitMs = rng.weighted<number>([
      [6, rng.range(0, 30)],
      [3, rng.range(30, 300)],
      [1, rng.range(300, 1500)],
    ]);
  }
  return { id, chunks, kinds, end, waitMs, read, maxPacketSize: ctx.maxPacketSize };
}
