// withPacketId / withRetain: one PUBLISH encoding reused across subscribers.
import { describe, expect, test } from 'vitest';
import {
  encode,
  PacketType,
  withPacketId,
  withRetain,
  type ProtocolVersion,
  type PublishPacket,
} from '../src';
import { decodeOne, normalize } from './util';

function publish(fields: Partial<PublishPacket>): PublishPacket {
  return {
    type: PacketType.PUBLISH,
    topic: 'fan/out/ü',
    payload: Buffer.from('hello'),
    qos: 1,
    retain: false,
    dup: false,
    packetId: 0,
    ...fields,
  };
}

describe('withPacketId', () => {
  test.each<[string, ProtocolVersion, Partial<PublishPacket>]>([
    ['3.1.1 QoS 1', 4, {}],
    ['3.1.1 QoS 2, 2-byte remaining length', 4, { qos: 2, payload: Buffer.alloc(300, 2) }],
    ['3.1.1 QoS 1, 3-byte remaining length', 4, { payload: Buffer.alloc(20_000, 3) }],
    [
      '5.0 QoS 1 with properties',
      5,
      { properties: { messageExpiryInterval: 10, userProperties: [['k', 'v']] } },
    ],
    ['5.0 QoS 2 retained source', 5, { qos: 2, retain: true, dup: true, packetId: 77 }],
  ])('%s', (_name, version, fields) => {
    const source = publish(fields);
    const encoded = encode(source, version);
    const before = Buffer.from(encoded);
    const out = withPacketId(encoded, 0xbeef, true, true);
    expect(out).not.toBe(encoded);
    expect(encoded.equals(before)).toBe(true);
    expect(normalize(decodeOne(out, version))).toEqual(
      normalize({ ...source, packetId: 0xbeef, dup: true, retain: true }),
    );
    const cleared = withPacketId(out, 1, false, false);
    expect(normalize(decodeOne(cleared, version))).toEqual(
      normalize({ ...source, packetId: 1, dup: false, retain: false }),
    );
  });

  test('refuses a QoS 0 PUBLISH, which has no packet identifier', () => {
    expect(() => withPacketId(encode(publish({ qos: 0 }), 4), 1, false, false)).toThrow(/QoS 1 or QoS 2/);
  });

  test('refuses a packet that is not a PUBLISH', () => {
    const puback = encode({ type: PacketType.PUBACK, packetId: 1, reasonCode: 0 }, 4);
    expect(() => withPacketId(puback, 1, false, false)).toThrow(TypeError);
  });
});

describe('withRetain', () => {
  test('returns the same buffer when the flag already matches', () => {
    const encoded = encode(publish({ qos: 0, retain: true }), 4);
    expect(withRetain(encoded, true)).toBe(encoded);
    const plain = encode(publish({ qos: 0 }), 4);
    expect(withRetain(plain, false)).toBe(plain);
  });

  test.each([true, false])('returns a copy with the flag changed to %s', (retain) => {
    const source = publish({ qos: 0, retain: !retain, payload: Buffer.alloc(200, 9) });
    const encoded = encode(source, 5);
    const before = Buffer.from(encoded);
    const out = withRetain(encoded, retain);
    expect(out).not.toBe(encoded);
    expect(encoded.equals(before)).toBe(true);
    expect(normalize(decodeOne(out, 5))).toEqual(normalize({ ...source, retain }));
  });

  test('keeps QoS, DUP and packet identifier of a QoS 2 PUBLISH', () => {
    const source = publish({ qos: 2, dup: true, packetId: 5 });
    const out = withRetain(encode(source, 4), true);
    expect(normalize(decodeOne(out))).toEqual(normalize({ ...source, retain: true }));
  });

  test('refuses a packet that is not a PUBLISH', () => {
    expect(() => withRetain(encode({ type: PacketType.PINGREQ }, 4), true)).toThrow(TypeError);
  });
});
