// Every structural rule the decoder enforces, each with hand-crafted bytes that break only that rule.
import { describe, expect, test } from 'vitest';
import { DecodeError, PacketType, type ProtocolVersion } from '../src';
import { connect, decodeError, decodeOne, hex, pkt, str } from './util';

const MALFORMED = 0x81;
const PROTOCOL_ERROR = 0x82;
const UNSUPPORTED = 0x84;

/** A 5.0 PUBLISH to "t" (QoS 0) with the given property block (length prefix included). */
function publish5(props: string, payload = ''): Buffer {
  return pkt(0x30, str('t') + props + payload);
}

interface Bad {
  name: string;
  bytes: Buffer;
  version?: ProtocolVersion;
  code: number;
  message: RegExp;
}

function check(cases: Bad[]): void {
  test.each(cases)('$name', ({ bytes, version, code, message }) => {
    const err = decodeError(bytes, version ?? 4);
    expect(err.message).toMatch(message);
    expect(err.reasonCode).toBe(code);
  });
}

describe('fixed header', () => {
  check([
    { name: 'packet type 0', bytes: pkt(0x00, ''), code: MALFORMED, message: /packet type 0 is reserved/ },
    {
      name: 'PUBREL flags 0000',
      bytes: pkt(0x60, '0001'),
      code: MALFORMED,
      message: /PUBREL fixed header flags are 0b0000; they must be 0b0010/,
    },
    {
      name: 'SUBSCRIBE flags 0000',
      bytes: pkt(0x80, '000a' + str('a') + '00'),
      code: MALFORMED,
      message: /SUBSCRIBE fixed header flags are 0b0000/,
    },
    {
      name: 'UNSUBSCRIBE flags 0011',
      bytes: pkt(0xa3, '000a' + str('a')),
      code: MALFORMED,
      message: /UNSUBSCRIBE fixed header flags are 0b0011/,
    },
    {
      name: 'PUBACK flags 0010',
      bytes: pkt(0x42, '0001'),
      code: MALFORMED,
      message: /PUBACK fixed header flags/,
    },
    {
      name: 'CONNECT flags 0001',
      bytes: pkt(0x11, '00'),
      code: MALFORMED,
      message: /CONNECT fixed header flags/,
    },
    {
      name: 'PINGREQ flags 1000',
      bytes: pkt(0xc8, ''),
      code: MALFORMED,
      message: /PINGREQ fixed header flags/,
    },
    {
      name: 'DISCONNECT flags 0100',
      bytes: pkt(0xe4, ''),
      code: MALFORMED,
      message: /DISCONNECT fixed header flags/,
    },
  ]);
});

describe('PUBLISH', () => {
  check([
    { name: 'QoS 3', bytes: pkt(0x36, str('a') + '0001'), code: MALFORMED, message: /PUBLISH QoS is 3/ },
    { name: 'DUP on QoS 0', bytes: pkt(0x38, str('a')), code: MALFORMED, message: /DUP set on a QoS 0/ },
    {
      name: 'QoS 1 with packet identifier 0',
      bytes: pkt(0x32, str('a') + '0000'),
      code: PROTOCOL_ERROR,
      message: /PUBLISH packet identifier is 0/,
    },
    {
      name: 'topic not UTF-8',
      bytes: pkt(0x30, '0002c328'),
      code: MALFORMED,
      message: /PUBLISH topic is not valid UTF-8/,
    },
    {
      name: 'topic with overlong encoding',
      bytes: pkt(0x30, '0002c0af'),
      code: MALFORMED,
      message: /PUBLISH topic is not valid UTF-8/,
    },
    {
      name: 'topic with an encoded surrogate',
      bytes: pkt(0x30, '0003eda080'),
      code: MALFORMED,
      message: /PUBLISH topic is not valid UTF-8/,
    },
    {
      name: 'topic containing U+0000',
      bytes: pkt(0x30, '0003610062'),
      code: MALFORMED,
      message: /PUBLISH topic contains the null character U\+0000/,
    },
    {
      name: 'topic longer than the packet',
      bytes: pkt(0x30, '00056162'),
      code: MALFORMED,
      message: /PUBLISH topic runs past the end of the packet/,
    },
    {
      name: 'QoS 1 without room for the packet identifier',
      bytes: pkt(0x32, str('a') + '00'),
      code: MALFORMED,
      message: /PUBLISH packet identifier runs past the end of the packet/,
    },
    {
      name: 'remaining length 1',
      bytes: pkt(0x30, '00'),
      code: MALFORMED,
      message: /PUBLISH topic runs past the end/,
    },
  ]);
});

describe('remaining length not matching the content', () => {
  check([
    {
      name: '3.1.1 PUBACK with a reason code',
      bytes: pkt(0x40, '000100'),
      code: MALFORMED,
      message: /PUBACK has 1 bytes left over after its last field/,
    },
    {
      name: 'PINGREQ with a body',
      bytes: pkt(0xc0, '00'),
      code: MALFORMED,
      message: /PINGREQ has 1 bytes left over/,
    },
    {
      name: 'PINGRESP with a body',
      bytes: pkt(0xd0, '0000'),
      code: MALFORMED,
      message: /PINGRESP has 2 bytes left over/,
    },
    {
      name: 'CONNECT with trailing bytes',
      bytes: connect(4, 0x02, str('c') + 'ff'),
      code: MALFORMED,
      message: /CONNECT has 1 bytes left over/,
    },
    {
      name: '3.1.1 UNSUBACK with reason codes',
      bytes: pkt(0xb0, '000b00'),
      code: MALFORMED,
      message: /UNSUBACK has 1 bytes left over/,
    },
    {
      name: '3.1.1 DISCONNECT with a reason code',
      bytes: pkt(0xe0, '00'),
      code: MALFORMED,
      message: /DISCONNECT has 1 bytes left over/,
    },
    {
      name: '3.1.1 CONNACK with a property length',
      bytes: pkt(0x20, '000000'),
      code: MALFORMED,
      message: /CONNACK has 1 bytes left over/,
    },
    {
      name: 'PUBACK shorter than a packet identifier',
      bytes: pkt(0x40, '01'),
      code: MALFORMED,
      message: /PUBACK packet identifier runs past the end of the packet/,
    },
    {
      name: 'SUBSCRIBE filter without its options byte',
      bytes: pkt(0x82, '000a' + str('a')),
      code: MALFORMED,
      message: /SUBSCRIBE subscription options runs past the end/,
    },
    {
      name: 'CONNECT cut short before the client id',
      bytes: pkt(0x10, str('MQTT') + '0402003c'),
      code: MALFORMED,
      message: /CONNECT client identifier runs past the end/,
    },
  ]);
});

describe('packet identifier 0', () => {
  check(
    [
      ['PUBACK', pkt(0x40, '0000')],
      ['PUBREC', pkt(0x50, '0000')],
      ['PUBREL', pkt(0x62, '0000')],
      ['PUBCOMP', pkt(0x70, '0000')],
      ['SUBSCRIBE', pkt(0x82, '0000' + str('a') + '00')],
      ['SUBACK', pkt(0x90, '000000')],
      ['UNSUBSCRIBE', pkt(0xa2, '0000' + str('a'))],
      ['UNSUBACK', pkt(0xb0, '0000')],
    ].map(([name, bytes]) => ({
      name: name as string,
      bytes: bytes as Buffer,
      code: PROTOCOL_ERROR,
      message: new RegExp(`${name as string} packet identifier is 0`),
    })),
  );
});

describe('SUBSCRIBE, UNSUBSCRIBE, SUBACK', () => {
  check([
    {
      name: '3.1.1 SUBSCRIBE with no filters',
      bytes: pkt(0x82, '000a'),
      code: MALFORMED,
      message: /SUBSCRIBE with no topic filters/,
    },
    {
      name: '5.0 SUBSCRIBE with no filters',
      bytes: pkt(0x82, '000a00'),
      version: 5,
      code: PROTOCOL_ERROR,
      message: /SUBSCRIBE with no topic filters/,
    },
    {
      name: '3.1.1 UNSUBSCRIBE with no filters',
      bytes: pkt(0xa2, '000a'),
      code: MALFORMED,
      message: /UNSUBSCRIBE with no topic filters/,
    },
    {
      name: '5.0 UNSUBSCRIBE with no filters',
      bytes: pkt(0xa2, '000a00'),
      version: 5,
      code: PROTOCOL_ERROR,
      message: /UNSUBSCRIBE with no topic filters/,
    },
    {
      name: '5.0 subscription options with reserved bit 7',
      bytes: pkt(0x82, '000a00' + str('a') + '80'),
      version: 5,
      code: MALFORMED,
      message: /options 0x80 have reserved bits \(7-6\) set/,
    },
    {
      name: '3.1.1 requested QoS byte with a 5.0 option (No Local)',
      bytes: pkt(0x82, '000a' + str('a') + '04'),
      code: MALFORMED,
      message: /options 0x4 have reserved bits \(7-2\) set/,
    },
    {
      name: '3.1 requested QoS byte with bit 7',
      bytes: pkt(0x82, '000a' + str('a') + '81'),
      version: 3,
      code: MALFORMED,
      message: /reserved bits \(7-2\)/,
    },
    {
      name: '3.1.1 requested QoS 3',
      bytes: pkt(0x82, '000a' + str('a') + '03'),
      code: MALFORMED,
      message: /SUBSCRIBE requests QoS 3 for "a"/,
    },
    {
      name: '5.0 requested QoS 3',
      bytes: pkt(0x82, '000a00' + str('a') + '03'),
      version: 5,
      code: MALFORMED,
      message: /SUBSCRIBE requests QoS 3/,
    },
    {
      name: '5.0 retain handling 3',
      bytes: pkt(0x82, '000a00' + str('a') + '30'),
      version: 5,
      code: PROTOCOL_ERROR,
      message: /SUBSCRIBE retain handling is 3 for "a"/,
    },
    {
      name: 'SUBSCRIBE filter not UTF-8',
      bytes: pkt(0x82, '000a' + '0001ff' + '00'),
      code: MALFORMED,
      message: /SUBSCRIBE topic filter is not valid UTF-8/,
    },
    {
      name: 'UNSUBSCRIBE filter containing U+0000',
      bytes: pkt(0xa2, '000a' + '000100'),
      code: MALFORMED,
      message: /UNSUBSCRIBE topic filter contains the null character/,
    },
    {
      name: '3.1.1 SUBACK return code 3',
      bytes: pkt(0x90, '000103'),
      code: MALFORMED,
      message: /SUBACK return code 0x3/,
    },
    {
      name: '3.1.1 SUBACK with no return codes',
      bytes: pkt(0x90, '0001'),
      code: MALFORMED,
      message: /SUBACK with no reason codes/,
    },
    {
      name: '5.0 UNSUBACK with no reason codes',
      bytes: pkt(0xb0, '000100'),
      version: 5,
      code: PROTOCOL_ERROR,
      message: /UNSUBACK with no reason codes/,
    },
  ]);
});

describe('CONNACK, AUTH', () => {
  check([
    {
      name: 'CONNACK reserved acknowledge flags',
      bytes: pkt(0x20, '0200'),
      code: MALFORMED,
      message: /CONNACK reserved acknowledge flags/,
    },
    {
      name: '5.0 CONNACK without its property length',
      bytes: pkt(0x20, '0000'),
      version: 5,
      code: MALFORMED,
      message: /CONNACK property length runs past the end/,
    },
    {
      name: 'AUTH in 3.1.1',
      bytes: pkt(0xf0, ''),
      code: MALFORMED,
      message: /AUTH packet \(type 15\) is reserved before MQTT 5.0/,
    },
  ]);
});

describe('CONNECT', () => {
  check([
    {
      name: 'reserved flag set',
      bytes: connect(4, 0x03),
      code: MALFORMED,
      message: /CONNECT reserved flag \(bit 0\) is set/,
    },
    {
      name: 'will QoS without the will flag',
      bytes: connect(4, 0x0a),
      code: MALFORMED,
      message: /will QoS is set but the will flag is not/,
    },
    {
      name: 'will retain without the will flag',
      bytes: connect(4, 0x22),
      code: MALFORMED,
      message: /will retain is set but the will flag is not/,
    },
    {
      name: 'will QoS 3',
      bytes: connect(4, 0x1e, str('c') + str('w') + '0000'),
      code: MALFORMED,
      message: /CONNECT will QoS is 3/,
    },
    {
      name: '3.1.1 password without username',
      bytes: connect(4, 0x42, str('c') + '0001ff'),
      code: MALFORMED,
      message: /password flag is set without the username flag/,
    },
    {
      name: '3.1 password without username',
      bytes: connect(3, 0x42, str('c') + '0001ff'),
      code: MALFORMED,
      message: /password flag is set without the username flag/,
    },
    {
      name: 'client id not UTF-8',
      bytes: connect(4, 0x02, '0001fe'),
      code: MALFORMED,
      message: /CONNECT client identifier is not valid UTF-8/,
    },
    {
      name: 'will topic containing U+0000',
      bytes: connect(4, 0x06, str('c') + '000100' + '0000'),
      code: MALFORMED,
      message: /CONNECT will topic contains the null character/,
    },
    {
      name: 'username not UTF-8',
      bytes: connect(4, 0x82, str('c') + '0002e282'),
      code: MALFORMED,
      message: /CONNECT username is not valid UTF-8/,
    },
    {
      name: 'will payload longer than the packet',
      bytes: connect(4, 0x06, str('c') + str('w') + '0009ff'),
      code: MALFORMED,
      message: /CONNECT will payload runs past the end/,
    },
  ]);

  test.each([
    ['MQTT', 3, 4],
    ['MQTT', 6, 5],
    ['MQTT', 0x84, 4],
    ['MQTT', 0x85, 5],
    ['MQIsdp', 4, 4],
    ['MQIsdp', 5, 5],
    ['MQTX', 4, 4],
    ['mqtt', 5, 5],
  ])('protocol "%s" level %i is unsupported (answer as %i)', (name, level, answerVersion) => {
    const err = decodeError(connect(level, 0x02, str('c'), name));
    expect(err.reasonCode).toBe(UNSUPPORTED);
    expect(err.message).toContain(`"${name}" level ${level}`);
    expect(err.protocolVersion).toBe(answerVersion);
  });

  test('errors after a 5.0 protocol level carry version 5 for the CONNACK', () => {
    const err = decodeError(connect(5, 0x03, '00' + str('c')));
    expect(err.reasonCode).toBe(MALFORMED);
    expect(err.protocolVersion).toBe(5);
    expect(decodeError(connect(4, 0x03)).protocolVersion).toBe(4);
  });

  test('5.0 allows a password without a username, and any CONNECT may have an empty client id', () => {
    const p = decodeOne(connect(5, 0x42, '00' + str('') + '0002abcd'));
    expect(p).toMatchObject({ type: PacketType.CONNECT, clientId: '', protocolVersion: 5, cleanStart: true });
    expect(p.type === PacketType.CONNECT && p.password).toEqual(hex('abcd'));
    expect(decodeOne(connect(3, 0x00, str('')))).toMatchObject({ clientId: '', protocolVersion: 3 });
  });

  test('DecodeError is an Error with a name', () => {
    const err = decodeError(pkt(0x00, ''));
    expect(err).toBeInstanceOf(Error);
    expect(err).toBeInstanceOf(DecodeError);
    expect(err.name).toBe('DecodeError');
  });
});

describe('5.0 properties', () => {
  check(
    [
      {
        name: 'unknown property identifier',
        bytes: publish5('02' + '0400'),
        code: MALFORMED,
        message: /PUBLISH has unknown property identifier 0x4/,
      },
      {
        name: 'property identifier above the table',
        bytes: publish5('02' + '8001'),
        code: MALFORMED,
        message: /unknown property identifier 0x80/,
      },
      {
        name: 'Message Expiry Interval twice',
        bytes: publish5('0a' + '0200000001' + '0200000002'),
        code: PROTOCOL_ERROR,
        message: /Message Expiry Interval \(0x02\) appears more than once in PUBLISH/,
      },
      {
        name: 'Content Type twice',
        bytes: publish5('08' + '03' + str('a') + '03' + str('b')),
        code: PROTOCOL_ERROR,
        message: /Content Type \(0x03\) appears more than once/,
      },
      {
        name: 'Subscription Identifier twice in SUBSCRIBE',
        bytes: pkt(0x82, '000a' + '04' + '0b01' + '0b02' + str('a') + '00'),
        code: PROTOCOL_ERROR,
        message: /Subscription Identifier \(0x0b\) appears more than once in SUBSCRIBE/,
      },
      {
        name: 'Session Expiry Interval in PUBLISH',
        bytes: publish5('05' + '1100000001'),
        code: PROTOCOL_ERROR,
        message: /Session Expiry Interval \(0x11\) is not allowed in PUBLISH/,
      },
      {
        name: 'Will Delay Interval in CONNECT properties',
        bytes: connect(5, 0x02, '05' + '1800000001' + str('c')),
        code: PROTOCOL_ERROR,
        message: /Will Delay Interval \(0x18\) is not allowed in CONNECT$/,
      },
      {
        name: 'Topic Alias in will properties',
        bytes: connect(5, 0x06, '00' + str('c') + '03' + '230001' + str('w') + '0000'),
        code: PROTOCOL_ERROR,
        message: /Topic Alias \(0x23\) is not allowed in CONNECT will/,
      },
      {
        name: 'Reason String in SUBSCRIBE',
        bytes: pkt(0x82, '000a' + '04' + '1f' + str('r') + str('a') + '00'),
        code: PROTOCOL_ERROR,
        message: /Reason String \(0x1f\) is not allowed in SUBSCRIBE/,
      },
      {
        name: 'Subscription Identifier in UNSUBSCRIBE',
        bytes: pkt(0xa2, '000a' + '02' + '0b01' + str('a')),
        code: PROTOCOL_ERROR,
        message: /Subscription Identifier \(0x0b\) is not allowed in UNSUBSCRIBE/,
      },
      {
        name: 'Reason String in PUBLISH',
        bytes: publish5('04' + '1f' + str('r')),
        code: PROTOCOL_ERROR,
        message: /Reason String \(0x1f\) is not allowed in PUBLISH/,
      },
      {
        name: 'Subscription Identifier 0',
        bytes: publish5('02' + '0b00'),
        code: PROTOCOL_ERROR,
        message: /Subscription Identifier \(0x0b\) is 0/,
      },
      {
        name: 'Subscription Identifier longer than 4 bytes',
        bytes: publish5('06' + '0bffffffff01'),
        code: MALFORMED,
        message: /Subscription Identifier \(0x0b\) value is a variable byte integer longer than 4 bytes/,
      },
      {
        name: 'property length overrunning the packet',
        bytes: publish5('05' + '0101'),
        code: MALFORMED,
        message: /PUBLISH property length 5 overruns the packet by 3 bytes/,
      },
      {
        name: 'property value overrunning the property length',
        bytes: publish5('03' + '03' + '0005', '6162636465'),
        code: MALFORMED,
        message: /Content Type \(0x03\) value runs past the end of the property block/,
      },
      {
        name: 'missing property length',
        bytes: publish5(''),
        code: MALFORMED,
        message: /PUBLISH property length runs past the end of the packet/,
      },
      {
        name: 'Payload Format Indicator 2',
        bytes: publish5('02' + '0102'),
        code: PROTOCOL_ERROR,
        message: /Payload Format Indicator \(0x01\) is 2; it must be 0 or 1/,
      },
      {
        name: 'Maximum QoS 2',
        bytes: pkt(0x20, '0000' + '02' + '2402'),
        code: PROTOCOL_ERROR,
        message: /Maximum Qos \(0x24\) is 2; it must be 0 or 1/,
      },
      {
        name: 'Request Problem Information 7',
        bytes: connect(5, 0x02, '02' + '1707' + str('c')),
        code: PROTOCOL_ERROR,
        message: /Request Problem Information \(0x17\) is 7/,
      },
      {
        name: 'Receive Maximum 0',
        bytes: connect(5, 0x02, '03' + '210000' + str('c')),
        code: PROTOCOL_ERROR,
        message: /Receive Maximum \(0x21\) is 0/,
      },
      {
        name: 'Maximum Packet Size 0',
        bytes: connect(5, 0x02, '05' + '2700000000' + str('c')),
        code: PROTOCOL_ERROR,
        message: /Maximum Packet Size \(0x27\) is 0/,
      },
      {
        name: 'Authentication Data without Authentication Method',
        bytes: connect(5, 0x02, '04' + '160001ff' + str('c')),
        code: PROTOCOL_ERROR,
        message: /CONNECT has Authentication Data without an Authentication Method/,
      },
      {
        name: 'User Property name not UTF-8',
        bytes: publish5('06' + '26' + '0001ff' + str('')),
        code: MALFORMED,
        message: /User Property \(0x26\) name is not valid UTF-8/,
      },
      {
        name: 'User Property value containing U+0000',
        bytes: publish5('06' + '26' + str('') + '000100'),
        code: MALFORMED,
        message: /User Property \(0x26\) value contains the null character/,
      },
      {
        name: 'Reason String not UTF-8 in PUBACK',
        bytes: pkt(0x40, '0001' + '10' + '04' + '1f' + '0001c3'),
        code: MALFORMED,
        message: /Reason String \(0x1f\) value is not valid UTF-8/,
      },
    ].map((c) => ({ ...c, version: 5 as const })),
  );

  test('user properties keep wire order, with repeated names', () => {
    const props = '26' + str('a') + str('1') + '26' + str('b') + str('2') + '26' + str('a') + str('3');
    const bytes = publish5(hex(props).length.toString(16).padStart(2, '0') + props, '7878');
    const p = decodeOne(bytes, 5);
    expect(p.type === PacketType.PUBLISH && p.properties?.userProperties).toEqual([
      ['a', '1'],
      ['b', '2'],
      ['a', '3'],
    ]);
  });

  test('several Subscription Identifiers in a PUBLISH', () => {
    const p = decodeOne(publish5('06' + '0b01' + '0b7f' + '0b02'), 5);
    expect(p.type === PacketType.PUBLISH && p.properties?.subscriptionIdentifiers).toEqual([1, 127, 2]);
  });

  test('a PUBLISH without properties has none', () => {
    const p = decodeOne(publish5('00', '6869'), 5);
    expect(p).toMatchObject({ type: PacketType.PUBLISH, topic: 't', properties: undefined });
  });
});

describe('5.0 shortened acks, DISCONNECT and AUTH', () => {
  test.each([
    ['PUBACK', pkt(0x40, '0007'), { type: 4, packetId: 7, reasonCode: 0 }],
    ['PUBREC reason code only', pkt(0x50, '000790'), { type: 5, packetId: 7, reasonCode: 0x90 }],
    [
      'PUBREL reason code and empty properties',
      pkt(0x62, '00079200'),
      { type: 6, packetId: 7, reasonCode: 0x92 },
    ],
    ['PUBCOMP', pkt(0x70, '0007'), { type: 7, packetId: 7, reasonCode: 0 }],
    ['DISCONNECT', pkt(0xe0, ''), { type: 14, reasonCode: 0 }],
    ['DISCONNECT reason code only', pkt(0xe0, '8e'), { type: 14, reasonCode: 0x8e }],
    ['AUTH', pkt(0xf0, ''), { type: 15, reasonCode: 0 }],
    ['AUTH reason code only', pkt(0xf0, '19'), { type: 15, reasonCode: 0x19 }],
  ])('%s', (_name, bytes, expected) => {
    const p = decodeOne(bytes, 5);
    expect(p).toEqual({ ...expected, properties: undefined });
  });
});
