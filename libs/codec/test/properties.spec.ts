// The 5.0 property table (spec 2.2.2.2), written out independently of the implementation: every
// property is tried once in every context (allowed → decodes, else 0x82) and twice where allowed.
import { describe, expect, test } from 'vitest';
import { PacketType } from '../src';
import { connect, decodeError, decodeOne, pkt, str } from './util';

type Context =
  | 'CONNECT'
  | 'will'
  | 'CONNACK'
  | 'PUBLISH'
  | 'PUBACK'
  | 'PUBREL'
  | 'SUBSCRIBE'
  | 'SUBACK'
  | 'UNSUBSCRIBE'
  | 'UNSUBACK'
  | 'DISCONNECT'
  | 'AUTH';

/** Builds a packet around a property block given as hex without its length. */
const BUILD: Record<Context, (props: string) => Buffer> = {
  CONNECT: (p) => connect(5, 0x02, block(p) + str('c')),
  will: (p) => connect(5, 0x06, '00' + str('c') + block(p) + str('w') + '0000'),
  CONNACK: (p) => pkt(0x20, '0000' + block(p)),
  PUBLISH: (p) => pkt(0x30, str('t') + block(p)),
  PUBACK: (p) => pkt(0x40, '0001' + '00' + block(p)),
  PUBREL: (p) => pkt(0x62, '0001' + '00' + block(p)),
  SUBSCRIBE: (p) => pkt(0x82, '0001' + block(p) + str('a') + '00'),
  SUBACK: (p) => pkt(0x90, '0001' + block(p) + '00'),
  UNSUBSCRIBE: (p) => pkt(0xa2, '0001' + block(p) + str('a')),
  UNSUBACK: (p) => pkt(0xb0, '0001' + block(p) + '00'),
  DISCONNECT: (p) => pkt(0xe0, '00' + block(p)),
  AUTH: (p) => pkt(0xf0, '18' + block(p)),
};
const CONTEXTS = Object.keys(BUILD) as Context[];

function block(props: string): string {
  const length = props.length / 2;
  expect(length).toBeLessThan(128);
  return length.toString(16).padStart(2, '0') + props;
}

const WILL_AND_PUBLISH: Context[] = ['PUBLISH', 'will'];
const ACKS: Context[] = ['PUBACK', 'PUBREL', 'SUBACK', 'UNSUBACK'];
const u32 = '0000000a';

// [name, id, one valid value (hex), contexts where the spec allows it]
const TABLE: [string, number, string, Context[]][] = [
  ['Payload Format Indicator', 0x01, '01', WILL_AND_PUBLISH],
  ['Message Expiry Interval', 0x02, u32, WILL_AND_PUBLISH],
  ['Content Type', 0x03, str('text/plain'), WILL_AND_PUBLISH],
  ['Response Topic', 0x08, str('r/t'), WILL_AND_PUBLISH],
  ['Correlation Data', 0x09, '0002abcd', WILL_AND_PUBLISH],
  ['Subscription Identifier', 0x0b, '8001', ['PUBLISH', 'SUBSCRIBE']],
  ['Session Expiry Interval', 0x11, u32, ['CONNECT', 'CONNACK', 'DISCONNECT']],
  ['Assigned Client Identifier', 0x12, str('id'), ['CONNACK']],
  ['Server Keep Alive', 0x13, '003c', ['CONNACK']],
  ['Authentication Method', 0x15, str('SCRAM'), ['CONNECT', 'CONNACK', 'AUTH']],
  ['Request Problem Information', 0x17, '01', ['CONNECT']],
  ['Will Delay Interval', 0x18, u32, ['will']],
  ['Request Response Information', 0x19, '01', ['CONNECT']],
  ['Response Information', 0x1a, str('resp'), ['CONNACK']],
  ['Server Reference', 0x1c, str('host'), ['CONNACK', 'DISCONNECT']],
  ['Reason String', 0x1f, str('why'), ['CONNACK', ...ACKS, 'DISCONNECT', 'AUTH']],
  ['Receive Maximum', 0x21, '0010', ['CONNECT', 'CONNACK']],
  ['Topic Alias Maximum', 0x22, '0010', ['CONNECT', 'CONNACK']],
  ['Topic Alias', 0x23, '0001', ['PUBLISH']],
  ['Maximum QoS', 0x24, '01', ['CONNACK']],
  ['Retain Available', 0x25, '01', ['CONNACK']],
  ['Maximum Packet Size', 0x27, '00010000', ['CONNECT', 'CONNACK']],
  ['Wildcard Subscription Available', 0x28, '00', ['CONNACK']],
  ['Subscription Identifier Available', 0x29, '00', ['CONNACK']],
  ['Shared Subscription Available', 0x2a, '01', ['CONNACK']],
];

const hexId = (id: number): string => id.toString(16).padStart(2, '0');

describe.each(TABLE)('%s (id %i)', (_name, id, value, allowed) => {
  const once = hexId(id) + value;
  test.each(CONTEXTS)('in %s', (context) => {
    const bytes = BUILD[context](once);
    if (allowed.includes(context)) {
      expect(decodeOne(bytes, 5)).toBeDefined();
    } else {
      const err = decodeError(bytes, 5);
      expect(err.message).toMatch(/is not allowed in/);
      expect(err.reasonCode).toBe(0x82);
    }
  });

  test.each(allowed)('twice in %s', (context) => {
    const bytes = BUILD[context](once + once);
    if (id === 0x0b && context === 'PUBLISH') {
      const p = decodeOne(bytes, 5);
      expect(p.type === PacketType.PUBLISH && p.properties?.subscriptionIdentifiers).toEqual([128, 128]);
      return;
    }
    const err = decodeError(bytes, 5);
    expect(err.message).toMatch(/appears more than once/);
    expect(err.reasonCode).toBe(0x82);
  });
});

describe('Authentication Data (0x16)', () => {
  const data = '16' + '0001ff';
  const method = '15' + str('m');
  test.each(['CONNECT', 'CONNACK', 'AUTH'] as const)('with a method in %s', (context) => {
    expect(decodeOne(BUILD[context](method + data), 5)).toBeDefined();
    expect(decodeError(BUILD[context](method + data + data), 5).message).toMatch(
      /Authentication Data \(0x16\) appears more than once/,
    );
  });
  test.each(CONTEXTS.filter((c) => !['CONNECT', 'CONNACK', 'AUTH'].includes(c)))('in %s', (context) => {
    expect(decodeError(BUILD[context](data), 5).reasonCode).toBe(0x82);
  });
});

describe('User Property (0x26)', () => {
  const pair = '26' + str('k') + str('v');
  test.each(CONTEXTS)('may repeat in %s', (context) => {
    const p = decodeOne(BUILD[context](pair + pair), 5);
    const props =
      p.type === PacketType.CONNECT && context === 'will'
        ? p.will?.properties
        : 'properties' in p
          ? p.properties
          : undefined;
    expect(props?.userProperties).toEqual([
      ['k', 'v'],
      ['k', 'v'],
    ]);
  });
});
