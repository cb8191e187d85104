// The decoder's buffering: packets split at every byte boundary, random splits, many per chunk,
// zero-copy views, early oversize detection and protocol version switching.
import { describe, expect, test } from 'vitest';
import { DecodeError, encode, PacketDecoder, PacketType, type Packet, type PublishPacket } from '../src';
import { casesFor, VERSIONS } from './fixtures';
import { byteByByte, decodeChunks, decoder, hex, normalize, randomSplit, rng, str } from './util';

function sameMemory(view: Buffer, chunk: Buffer): boolean {
  return (
    view.buffer === chunk.buffer &&
    view.byteOffset >= chunk.byteOffset &&
    view.byteOffset + view.length <= chunk.byteOffset + chunk.length
  );
}

describe.each(VERSIONS)('MQTT protocol level %i', (version) => {
  const cases = casesFor(version);
  const encoded = cases.map((c) => encode(c.packet, version));
  const expected = cases.map((c) => normalize(c.packet));
  const stream = Buffer.concat(encoded);

  test.each(cases.map((c, i) => ({ name: c.name, i })))('byte by byte: $name', ({ i }) => {
    const packets = decodeChunks(byteByByte(encoded[i]), version);
    expect(packets.map(normalize)).toEqual([expected[i]]);
  });

  test('every packet concatenated in one chunk', () => {
    // The stream starts with a CONNECT, so the decoder must pick the version up from it.
    const d = new PacketDecoder({ maxPacketSize: stream.length });
    d.push(stream);
    const packets: Packet[] = [];
    for (let p = d.next(); p !== null; p = d.next()) packets.push(p);
    expect(packets.map(normalize)).toEqual(expected);
    expect(d.protocolVersion).toBe(version);
  });

  test.each([
    [1, 7],
    [2, 64],
    [3, 1500],
    [4, 70_000],
  ])('random splits (seed %i, chunks up to %i bytes)', (seed, maxChunk) => {
    const packets = decodeChunks(randomSplit(stream, rng(seed), maxChunk), version);
    expect(packets.map(normalize)).toEqual(expected);
  });
});

describe('buffering', () => {
  const publish = (topic: string, payload: string): Buffer =>
    encode(
      { type: 3, topic, payload: Buffer.from(payload), qos: 0, retain: false, dup: false, packetId: 0 },
      4,
    );

  test('a packet split at every possible boundary, with packets either side', () => {
    const before = publish('x', 'first');
    const middle = encode(
      {
        type: 3,
        topic: 'a/b',
        payload: Buffer.alloc(200, 7),
        qos: 1,
        retain: false,
        dup: false,
        packetId: 9,
      },
      4,
    );
    const after = publish('y', 'last');
    const all = Buffer.concat([before, middle, after]);
    for (let cut = before.length; cut <= before.length + middle.length; cut++) {
      for (const second of [cut + 1, all.length]) {
        const chunks = [all.subarray(0, cut), all.subarray(cut, second), all.subarray(second)];
        const packets = decodeChunks(chunks) as PublishPacket[];
        expect(packets.map((p) => p.topic)).toEqual(['x', 'a/b', 'y']);
        expect(packets[1].payload).toEqual(Buffer.alloc(200, 7));
      }
    }
  });

  test('binary fields of a packet inside one chunk are views into that chunk', () => {
    const connect = encode(
      {
        type: PacketType.CONNECT,
        protocolName: 'MQTT',
        protocolVersion: 5,
        cleanStart: true,
        keepAlive: 1,
        clientId: 'c',
        username: 'u',
        password: Buffer.from('pw'),
        will: { topic: 't', payload: Buffer.from('will'), qos: 0, retain: false },
        properties: { authenticationMethod: 'm', authenticationData: Buffer.from('ad') },
      },
      5,
    );
    const pub = encode(
      {
        type: PacketType.PUBLISH,
        topic: 't',
        payload: Buffer.from('payload'),
        qos: 0,
        retain: false,
        dup: false,
        packetId: 0,
        properties: { correlationData: Buffer.from('corr') },
      },
      5,
    );
    const chunk = Buffer.concat([connect, pub]);
    const d = decoder();
    d.push(chunk);
    const c = d.next() as Packet & { type: 1 };
    const p = d.next() as PublishPacket;
    for (const view of [
      c.password,
      c.will?.payload,
      c.properties?.authenticationData,
      p.payload,
      p.properties?.correlationData,
    ]) {
      expect(view).toBeDefined();
      expect(sameMemory(view as Buffer, chunk)).toBe(true);
    }
    expect(p.payload.toString()).toBe('payload');
  });

  test('only the unfinished tail is kept, and earlier views survive later pushes', () => {
    const first = publish('a', 'one');
    const second = publish('b', 'two');
    const chunk = Buffer.concat([first, second.subarray(0, 4)]);
    const d = decoder();
    d.push(chunk);
    const p1 = d.next() as PublishPacket;
    expect(d.next()).toBeNull();
    expect(d.pendingBytes).toBe(4);
    // The tail was copied out: reusing the chunk's memory must not affect the pending packet.
    chunk.fill(0xee, first.length);
    d.push(second.subarray(4));
    const p2 = d.next() as PublishPacket;
    expect(d.next()).toBeNull();
    expect(d.pendingBytes).toBe(0);
    expect(sameMemory(p1.payload, chunk)).toBe(true);
    expect(p2.topic).toBe('b');
    expect(p2.payload.toString()).toBe('two');
    expect(p1.payload.toString()).toBe('one');
  });

  test('pendingBytes counts a partial fixed header, then a partial body', () => {
    const bytes = encode(
      { type: 3, topic: 't', payload: Buffer.alloc(300), qos: 0, retain: false, dup: false, packetId: 0 },
      4,
    );
    const d = decoder();
    d.push(bytes.subarray(0, 2)); // type byte + first of two length bytes
    expect(d.next()).toBeNull();
    expect(d.pendingBytes).toBe(2);
    d.push(bytes.subarray(2, 10));
    expect(d.next()).toBeNull();
    expect(d.pendingBytes).toBe(10);
    d.push(bytes.subarray(10));
    expect((d.next() as PublishPacket).payload.length).toBe(300);
    expect(d.pendingBytes).toBe(0);
  });

  test('pushing again before draining keeps every byte in order', () => {
    const a = publish('a', '1');
    const b = publish('b', '2');
    const c = publish('c', '3');
    const d = decoder();
    d.push(Buffer.concat([a, b.subarray(0, 3)]));
    d.push(Buffer.concat([b.subarray(3), c.subarray(0, 1)]));
    expect(d.pendingBytes).toBe(a.length + b.length + 1);
    d.push(c.subarray(1));
    const topics: string[] = [];
    for (let p = d.next(); p !== null; p = d.next()) topics.push((p as PublishPacket).topic);
    expect(topics).toEqual(['a', 'b', 'c']);
  });

  test('an empty chunk changes nothing', () => {
    const d = decoder();
    d.push(Buffer.alloc(0));
    expect(d.next()).toBeNull();
    d.push(hex('c0'));
    d.push(Buffer.alloc(0));
    expect(d.next()).toBeNull();
    d.push(hex('00'));
    expect(d.next()).toEqual({ type: PacketType.PINGREQ });
  });

  test('a CONNECT switches the rest of the same chunk to 5.0', () => {
    const connect = encode(
      { type: 1, protocolName: 'MQTT', protocolVersion: 5, cleanStart: true, keepAlive: 0, clientId: 'c' },
      5,
    );
    const pub = encode(
      {
        type: 3,
        topic: 't',
        payload: Buffer.from('p'),
        qos: 0,
        retain: false,
        dup: false,
        packetId: 0,
        properties: { messageExpiryInterval: 5 },
      },
      5,
    );
    const d = new PacketDecoder({ maxPacketSize: 1000 });
    expect(d.protocolVersion).toBe(4);
    d.push(Buffer.concat([connect, pub]));
    expect(d.next()?.type).toBe(PacketType.CONNECT);
    expect(d.protocolVersion).toBe(5);
    const p = d.next() as PublishPacket;
    expect(p.properties).toEqual({ messageExpiryInterval: 5 });
    expect(p.payload.toString()).toBe('p');
  });
});

describe('packet size limit', () => {
  test('oversize is reported from the fixed header alone, before the body arrives', () => {
    const d = decoder(4, 1000);
    d.push(hex('30 e6 07')); // remaining length 998 → 1001 bytes in all
    const err = (() => {
      try {
        d.next();
      } catch (e) {
        return e as DecodeError;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(DecodeError);
    expect(err?.reasonCode).toBe(0x95);
    expect(err?.message).toMatch(/1001 bytes exceeds the maximum packet size of 1000/);
  });

  test('oversize is reported when the fixed header itself arrives split', () => {
    const d = decoder(4, 1000);
    d.push(hex('30'));
    expect(d.next()).toBeNull();
    d.push(hex('e6'));
    expect(d.next()).toBeNull();
    d.push(hex('07'));
    expect(() => d.next()).toThrow(expect.objectContaining({ reasonCode: 0x95 }));
  });

  test('a packet of exactly the maximum size is accepted', () => {
    const body = str('t') + '00'.repeat(1000 - 3 - 3);
    const bytes = Buffer.concat([hex('30 e5 07'), hex(body)]);
    expect(bytes.length).toBe(1000);
    expect(decodeChunks([bytes], 4, 1000)).toHaveLength(1);
    expect(decodeChunks(byteByByte(bytes), 4, 1000)).toHaveLength(1);
  });

  test('a remaining length longer than 4 bytes is malformed, split or not', () => {
    const bytes = hex('30 ff ff ff ff 01');
    for (const chunks of [[bytes], byteByByte(bytes)]) {
      const d = decoder();
      let err: unknown;
      try {
        for (const c of chunks) {
          d.push(c);
          while (d.next() !== null);
        }
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DecodeError);
      expect((err as DecodeError).reasonCode).toBe(0x81);
      expect((err as DecodeError).message).toMatch(/remaining length is longer than 4 bytes/);
    }
  });
});

describe('memory', () => {
  test('announcing a huge packet reserves memory only as its bytes arrive', () => {
    const d = decoder(4, 300_000_000);
    const before = process.memoryUsage().arrayBuffers;
    d.push(hex('30 ff ff ff 7f')); // 268,435,455 bytes announced
    expect(d.next()).toBeNull();
    d.push(Buffer.alloc(100_000));
    expect(d.next()).toBeNull();
    expect(d.pendingBytes).toBe(100_005);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(20_000_000);
  });

  test('a big packet assembled from many chunks is intact', () => {
    const payload = Buffer.alloc(1_000_000);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 0xff;
    const bytes = encode(
      { type: PacketType.PUBLISH, topic: 'big', payload, qos: 1, retain: false, dup: false, packetId: 3 },
      4,
    );
    for (const maxChunk of [1000, 70_000, 300_000]) {
      const [p] = decodeChunks(randomSplit(bytes, rng(maxChunk), maxChunk)) as PublishPacket[];
      expect(p.payload.equals(payload)).toBe(true);
    }
  });
});
