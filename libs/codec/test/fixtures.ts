// A broad table of valid packets for every type in 3.1, 3.1.1 and 5.0, shared by the cross-check and
// streaming tests. Each version's list starts with a CONNECT so the concatenation decodes as a stream.
import { PacketType, type Packet, type Properties, type ProtocolVersion, type PublishPacket } from '../src';

export interface Case {
  name: string;
  packet: Packet;
  /** Set when mqtt-packet cannot parse our (valid) encoding, with the reason. */
  mqttPacketCannotParse?: string;
  /** Set when mqtt-packet refuses to generate the packet, with the reason. */
  mqttPacketCannotGenerate?: string;
}

const bytes = (n: number, seed = 7): Buffer => {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
};
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const BIG = bytes(20_000);
/** Remaining length above 2,097,151 needs a 4-byte varint. */
const HUGE = bytes(2_100_000, 3);

const users = (...pairs: [string, string][]): Properties['userProperties'] => pairs;

function protocol(version: ProtocolVersion): { protocolName: string; protocolVersion: ProtocolVersion } {
  return { protocolName: version === 3 ? 'MQIsdp' : 'MQTT', protocolVersion: version };
}

function common(v: ProtocolVersion): Case[] {
  const publish = (name: string, fields: Partial<PublishPacket>): Case => ({
    name,
    packet: {
      type: PacketType.PUBLISH,
      topic: 'sensors/room-1/temp',
      payload: Buffer.from('21.5'),
      qos: 0,
      retain: false,
      dup: false,
      packetId: 0,
      ...fields,
    },
  });
  const cases: Case[] = [
    {
      name: 'CONNECT minimal',
      packet: {
        type: PacketType.CONNECT,
        ...protocol(v),
        cleanStart: true,
        keepAlive: 60,
        clientId: 'client-1',
      },
    },
    {
      name: 'CONNECT with will, username and password',
      packet: {
        type: PacketType.CONNECT,
        ...protocol(v),
        cleanStart: false,
        keepAlive: 0,
        clientId: 'client-2',
        username: 'üser',
        password: Buffer.from([0, 1, 2, 255]),
        will: { topic: 'last/will', payload: ALL_BYTES, qos: 1, retain: true },
      },
    },
    {
      name: 'CONNECT with QoS 2 will and empty will payload',
      packet: {
        type: PacketType.CONNECT,
        ...protocol(v),
        cleanStart: true,
        keepAlive: 65535,
        clientId: 'c',
        will: { topic: 'w', payload: Buffer.alloc(0), qos: 2, retain: false },
      },
    },
    { name: 'CONNACK accepted', packet: { type: PacketType.CONNACK, sessionPresent: true, reasonCode: 0 } },
    {
      name: 'CONNACK refused',
      packet: { type: PacketType.CONNACK, sessionPresent: false, reasonCode: v === 5 ? 0x87 : 5 },
    },
    publish('PUBLISH QoS 0', {}),
    publish('PUBLISH QoS 1 retained duplicate', { qos: 1, retain: true, dup: true, packetId: 1 }),
    publish('PUBLISH QoS 2 max packet id', { qos: 2, packetId: 65535 }),
    publish('PUBLISH empty payload', { payload: Buffer.alloc(0) }),
    publish('PUBLISH binary payload', { payload: ALL_BYTES, qos: 1, packetId: 300 }),
    publish('PUBLISH non-ASCII topic', { topic: 'température/☃/𝄞', payload: Buffer.from('ünï') }),
    publish('PUBLISH empty-ish one-char topic', { topic: 'a' }),
    publish('PUBLISH 20 KB payload', { payload: BIG, qos: 1, packetId: 2 }),
    publish('PUBLISH 2.1 MB payload', { payload: HUGE }),
    { name: 'PUBACK', packet: { type: PacketType.PUBACK, packetId: 1, reasonCode: 0 } },
    { name: 'PUBREC', packet: { type: PacketType.PUBREC, packetId: 65535, reasonCode: 0 } },
    { name: 'PUBREL', packet: { type: PacketType.PUBREL, packetId: 1234, reasonCode: 0 } },
    { name: 'PUBCOMP', packet: { type: PacketType.PUBCOMP, packetId: 42, reasonCode: 0 } },
    {
      name: 'SUBSCRIBE three filters',
      packet: {
        type: PacketType.SUBSCRIBE,
        packetId: 10,
        subscriptions: [
          { filter: 'a/+/c', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 },
          { filter: 'd/#', qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 },
          { filter: 'ü/☃', qos: 2, noLocal: false, retainAsPublished: false, retainHandling: 0 },
        ],
      },
    },
    { name: 'SUBACK', packet: { type: PacketType.SUBACK, packetId: 10, reasonCodes: [0, 1, 2, 0x80] } },
    {
      name: 'UNSUBSCRIBE',
      packet: { type: PacketType.UNSUBSCRIBE, packetId: 11, filters: ['a/+/c', 'd/#'] },
    },
    {
      name: 'UNSUBACK',
      packet: { type: PacketType.UNSUBACK, packetId: 11, reasonCodes: v === 5 ? [0, 0x11] : [] },
    },
    { name: 'PINGREQ', packet: { type: PacketType.PINGREQ } },
    { name: 'PINGRESP', packet: { type: PacketType.PINGRESP } },
    { name: 'DISCONNECT', packet: { type: PacketType.DISCONNECT, reasonCode: 0 } },
  ];
  if (v !== 3) {
    // mqtt-packet insists on a client id before 3.1.1.
    cases.push({
      name: 'CONNECT with empty client id',
      packet: { type: PacketType.CONNECT, ...protocol(v), cleanStart: true, keepAlive: 30, clientId: '' },
    });
  }
  return cases;
}

function v5Only(): Case[] {
  const willProperties: Properties = {
    payloadFormatIndicator: 1,
    messageExpiryInterval: 3600,
    contentType: 'text/plain',
    responseTopic: 'reply/here',
    correlationData: Buffer.from([9, 8, 7]),
    willDelayInterval: 30,
    userProperties: users(['w', '1']),
  };
  return [
    {
      name: 'CONNECT with every CONNECT and will property',
      packet: {
        type: PacketType.CONNECT,
        protocolName: 'MQTT',
        protocolVersion: 5,
        cleanStart: true,
        keepAlive: 10,
        clientId: 'props',
        username: 'u',
        password: Buffer.from('secret'),
        will: {
          topic: 'w/t',
          payload: Buffer.from('bye'),
          qos: 0,
          retain: false,
          properties: willProperties,
        },
        properties: {
          sessionExpiryInterval: 0xffffffff,
          receiveMaximum: 100,
          maximumPacketSize: 1_048_576,
          topicAliasMaximum: 10,
          requestResponseInformation: 1,
          requestProblemInformation: 0,
          authenticationMethod: 'SCRAM-SHA-1',
          authenticationData: Buffer.from([1, 2, 3]),
          userProperties: users(['a', '1'], ['a', '2'], ['b', 'ü']),
        },
      },
    },
    {
      name: 'CONNACK with every CONNACK property',
      packet: {
        type: PacketType.CONNACK,
        sessionPresent: false,
        reasonCode: 0,
        properties: {
          sessionExpiryInterval: 120,
          receiveMaximum: 65535,
          maximumQos: 1,
          retainAvailable: 0,
          maximumPacketSize: 2_000_000,
          assignedClientIdentifier: 'auto-123',
          topicAliasMaximum: 65535,
          reasonString: 'welcome',
          userProperties: users(['server', 'fluxmq']),
          wildcardSubscriptionAvailable: 1,
          subscriptionIdentifiersAvailable: 0,
          sharedSubscriptionAvailable: 1,
          serverKeepAlive: 30,
          responseInformation: 'resp/',
          serverReference: 'other.example:1883',
          authenticationMethod: 'm',
          authenticationData: Buffer.alloc(0),
        },
      },
    },
    {
      name: 'PUBLISH with every PUBLISH property',
      packet: {
        type: PacketType.PUBLISH,
        topic: 't/1',
        payload: Buffer.from('{"x":1}'),
        qos: 1,
        retain: false,
        dup: false,
        packetId: 5,
        properties: {
          payloadFormatIndicator: 1,
          messageExpiryInterval: 60,
          topicAlias: 3,
          responseTopic: 'reply/1',
          correlationData: ALL_BYTES,
          userProperties: users(['k', 'v1'], ['k', 'v2'], ['other', '']),
          subscriptionIdentifiers: [1, 127, 128, 16383, 16384, 268_435_455],
          contentType: 'application/json',
        },
      },
    },
    {
      name: 'PUBLISH with topic alias and empty topic',
      packet: {
        type: PacketType.PUBLISH,
        topic: '',
        payload: Buffer.from('x'),
        qos: 0,
        retain: true,
        dup: false,
        packetId: 0,
        properties: { topicAlias: 1 },
      },
    },
    {
      name: 'PUBLISH 2.1 MB with properties',
      packet: {
        type: PacketType.PUBLISH,
        topic: 'big',
        payload: HUGE,
        qos: 2,
        retain: false,
        dup: false,
        packetId: 9,
        properties: { contentType: 'application/octet-stream', userProperties: users(['n', '1']) },
      },
    },
    {
      name: 'PUBACK with reason code only',
      packet: { type: PacketType.PUBACK, packetId: 7, reasonCode: 0x10 },
    },
    {
      name: 'PUBREC with reason string and user properties',
      packet: {
        type: PacketType.PUBREC,
        packetId: 8,
        reasonCode: 0x97,
        properties: { reasonString: 'quota', userProperties: users(['x', 'y']) },
      },
    },
    {
      name: 'PUBREL with reason',
      packet: { type: PacketType.PUBREL, packetId: 9, reasonCode: 0x92, properties: { reasonString: '?' } },
    },
    {
      name: 'PUBCOMP success with properties',
      packet: { type: PacketType.PUBCOMP, packetId: 9, reasonCode: 0, properties: { reasonString: 'ok' } },
    },
    {
      name: 'SUBSCRIBE with 5.0 options and subscription identifier',
      packet: {
        type: PacketType.SUBSCRIBE,
        packetId: 12,
        subscriptions: [
          { filter: 'a/#', qos: 1, noLocal: true, retainAsPublished: false, retainHandling: 0 },
          { filter: '$share/g/b', qos: 2, noLocal: false, retainAsPublished: true, retainHandling: 1 },
          { filter: 'c', qos: 0, noLocal: true, retainAsPublished: true, retainHandling: 2 },
        ],
        properties: { subscriptionIdentifiers: [268_435_455], userProperties: users(['s', '1']) },
      },
    },
    {
      name: 'SUBACK with failures and properties',
      packet: {
        type: PacketType.SUBACK,
        packetId: 12,
        reasonCodes: [1, 0x87, 0x8f, 0x9e, 0xa1, 0xa2],
        properties: { reasonString: 'partly', userProperties: users(['r', 's']) },
      },
    },
    {
      name: 'UNSUBSCRIBE with user properties',
      packet: {
        type: PacketType.UNSUBSCRIBE,
        packetId: 13,
        filters: ['a/#'],
        properties: { userProperties: users(['u', 'v']) },
      },
    },
    {
      name: 'UNSUBACK with reason string',
      packet: {
        type: PacketType.UNSUBACK,
        packetId: 13,
        reasonCodes: [0x80],
        properties: { reasonString: 'nope' },
      },
    },
    {
      name: 'DISCONNECT with reason code only',
      packet: { type: PacketType.DISCONNECT, reasonCode: 0x04 },
    },
    {
      name: 'DISCONNECT with every DISCONNECT property',
      packet: {
        type: PacketType.DISCONNECT,
        reasonCode: 0x9c,
        properties: {
          sessionExpiryInterval: 0,
          reasonString: 'moved',
          serverReference: 'b.example',
          userProperties: users(['d', '1']),
        },
      },
    },
    {
      name: 'AUTH continue with every AUTH property',
      packet: {
        type: PacketType.AUTH,
        reasonCode: 0x18,
        properties: {
          authenticationMethod: 'SCRAM-SHA-256',
          authenticationData: bytes(300),
          reasonString: 'step 2',
          userProperties: users(['a', 'b']),
        },
      },
    },
    {
      name: 'AUTH success, shortest form',
      packet: { type: PacketType.AUTH, reasonCode: 0 },
      mqttPacketCannotParse: 'mqtt-packet requires the reason code byte in AUTH',
    },
    {
      name: 'CONNECT with password but no username (5.0 only)',
      packet: {
        type: PacketType.CONNECT,
        protocolName: 'MQTT',
        protocolVersion: 5,
        cleanStart: true,
        keepAlive: 5,
        clientId: 'p',
        password: Buffer.from('token'),
      },
      mqttPacketCannotGenerate: 'mqtt-packet refuses a password without a username',
    },
  ];
}

export function casesFor(version: ProtocolVersion): Case[] {
  return version === 5 ? [...common(5), ...v5Only()] : common(version);
}

export const VERSIONS: ProtocolVersion[] = [3, 4, 5];
