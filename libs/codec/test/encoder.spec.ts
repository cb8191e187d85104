import { describe, expect, test } from 'vitest';
import { encode, PacketType, type Packet, type ProtocolVersion } from '../src';
import { decodeOne, hex, normalize, str } from './util';

function bytesOf(packet: Packet, version: ProtocolVersion): string {
  return encode(packet, version).toString('hex');
}

describe('3.1.1 drops what it has no room for', () => {
  test.each<[string, Packet, string]>([
    [
      'PUBACK reason code and properties',
      { type: PacketType.PUBACK, packetId: 7, reasonCode: 0x10, properties: { reasonString: 'x' } },
      '40020007',
    ],
    ['PUBREL keeps its 0b0010 flags', { type: PacketType.PUBREL, packetId: 7, reasonCode: 0x92 }, '62020007'],
    [
      'UNSUBACK reason codes',
      { type: PacketType.UNSUBACK, packetId: 11, reasonCodes: [0, 0x11] },
      'b002000b',
    ],
    ['DISCONNECT reason code', { type: PacketType.DISCONNECT, reasonCode: 0x8e }, 'e000'],
    [
      'CONNACK return code, no properties',
      { type: PacketType.CONNACK, sessionPresent: true, reasonCode: 2 },
      '20020102',
    ],
    [
      'PUBLISH properties',
      {
        type: PacketType.PUBLISH,
        topic: 'a',
        payload: Buffer.from('b'),
        qos: 0,
        retain: true,
        dup: false,
        packetId: 0,
        properties: { messageExpiryInterval: 1 },
      },
      '3104' + str('a') + '62',
    ],
    [
      'SUBSCRIBE 5.0 options',
      {
        type: PacketType.SUBSCRIBE,
        packetId: 1,
        subscriptions: [{ filter: 'a', qos: 1, noLocal: true, retainAsPublished: true, retainHandling: 2 }],
      },
      '82060001' + str('a') + '01',
    ],
  ])('%s', (_name, packet, expected) => {
    expect(bytesOf(packet, 4)).toBe(expected);
  });
});

describe('5.0 uses the shortest form', () => {
  test.each<[string, Packet, string]>([
    [
      'PUBACK success without properties',
      { type: PacketType.PUBACK, packetId: 7, reasonCode: 0 },
      '40020007',
    ],
    [
      'PUBREC with an empty properties object',
      { type: PacketType.PUBREC, packetId: 7, reasonCode: 0, properties: {} },
      '50020007',
    ],
    ['PUBREC reason code only', { type: PacketType.PUBREC, packetId: 7, reasonCode: 0x10 }, '5003000710'],
    [
      'PUBCOMP success with properties',
      { type: PacketType.PUBCOMP, packetId: 7, reasonCode: 0, properties: { reasonString: 'r' } },
      '70080007' + '00' + '04' + '1f' + str('r'),
    ],
    ['DISCONNECT success', { type: PacketType.DISCONNECT, reasonCode: 0 }, 'e000'],
    ['DISCONNECT reason code only', { type: PacketType.DISCONNECT, reasonCode: 0x04 }, 'e00104'],
    ['AUTH success', { type: PacketType.AUTH, reasonCode: 0 }, 'f000'],
    ['AUTH reason code only', { type: PacketType.AUTH, reasonCode: 0x19 }, 'f00119'],
    [
      'CONNACK always has a property length',
      { type: PacketType.CONNACK, sessionPresent: false, reasonCode: 0 },
      '2003000000',
    ],
    ['PINGREQ', { type: PacketType.PINGREQ }, 'c000'],
    ['PINGRESP', { type: PacketType.PINGRESP }, 'd000'],
  ])('%s', (_name, packet, expected) => {
    expect(bytesOf(packet, 5)).toBe(expected);
    expect(normalize(decodeOne(hex(expected), 5))).toEqual(normalize(packet));
  });

  test('user properties are written in array order, repeats included', () => {
    const userProperties: [string, string][] = [
      ['a', '1'],
      ['b', '2'],
      ['a', '3'],
    ];
    const props = userProperties.map(([k, v]) => '26' + str(k) + str(v)).join('');
    const bytes = bytesOf(
      { type: PacketType.PUBACK, packetId: 1, reasonCode: 0, properties: { userProperties } },
      5,
    );
    expect(bytes).toBe('4019' + '0001' + '00' + '15' + props);
  });

  test('a CONNECT is laid out by its own protocol level', () => {
    const connect: Packet = {
      type: PacketType.CONNECT,
      protocolName: 'MQTT',
      protocolVersion: 5,
      cleanStart: true,
      keepAlive: 1,
      clientId: '',
    };
    const expected = '100d' + str('MQTT') + '05' + '02' + '0001' + '00' + str('');
    expect(bytesOf(connect, 4)).toBe(expected);
    expect(bytesOf(connect, 5)).toBe(expected);
  });
});

describe('limits', () => {
  test('a string over 65535 bytes is refused', () => {
    const packet: Packet = {
      type: PacketType.PUBLISH,
      topic: 'é'.repeat(40_000),
      payload: Buffer.alloc(0),
      qos: 0,
      retain: false,
      dup: false,
      packetId: 0,
    };
    expect(() => encode(packet, 4)).toThrow(/PUBLISH topic is 80000 bytes; the limit is 65535/);
  });

  test('binary data over 65535 bytes is refused', () => {
    const packet: Packet = {
      type: PacketType.CONNECT,
      protocolName: 'MQTT',
      protocolVersion: 4,
      cleanStart: true,
      keepAlive: 0,
      clientId: 'c',
      username: 'u',
      password: Buffer.alloc(70_000),
    };
    expect(() => encode(packet, 4)).toThrow(/CONNECT password is 70000 bytes/);
  });

  test('a subscription identifier beyond the varint range is refused', () => {
    const packet: Packet = {
      type: PacketType.SUBSCRIBE,
      packetId: 1,
      subscriptions: [{ filter: 'a', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 }],
      properties: { subscriptionIdentifiers: [268_435_456] },
    };
    expect(() => encode(packet, 5)).toThrow(RangeError);
  });

  test('AUTH cannot be encoded for 3.1.1', () => {
    expect(() => encode({ type: PacketType.AUTH, reasonCode: 0 }, 4)).toThrow(/AUTH exists only in MQTT 5.0/);
  });

  test('remaining length uses 1 to 4 bytes at the boundaries', () => {
    for (const [payload, lengthBytes] of [
      [127 - 3, 1],
      [128 - 3, 2],
      [16_383 - 3, 2],
      [16_384 - 3, 3],
      [2_097_151 - 3, 3],
      [2_097_152 - 3, 4],
    ]) {
      const packet: Packet = {
        type: PacketType.PUBLISH,
        topic: 't',
        payload: Buffer.alloc(payload, 1),
        qos: 0,
        retain: false,
        dup: false,
        packetId: 0,
      };
      const bytes = encode(packet, 4);
      expect(bytes.length).toBe(1 + lengthBytes + payload + 3);
      expect(normalize(decodeOne(bytes))).toEqual(normalize(packet));
    }
  });
});
