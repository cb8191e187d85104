// Translation between our packet objects and mqtt-packet's, which names fields differently (`cmd`,
// `messageId`, `clean`, ...), uses booleans for byte-valued properties and an object for user properties.
import * as mqttPacket from 'mqtt-packet';
import { PacketType, type Packet, type Properties, type ProtocolVersion, type UserProperty } from '../src';

type MqttProps = Record<string, unknown>;
type MqttUserProps = Record<string, string | string[]>;

const CMD: Record<number, mqttPacket.PacketCmd> = {
  1: 'connect',
  2: 'connack',
  3: 'publish',
  4: 'puback',
  5: 'pubrec',
  6: 'pubrel',
  7: 'pubcomp',
  8: 'subscribe',
  9: 'suback',
  10: 'unsubscribe',
  11: 'unsuback',
  12: 'pingreq',
  13: 'pingresp',
  14: 'disconnect',
  15: 'auth',
};
const TYPE = Object.fromEntries(Object.entries(CMD).map(([type, cmd]) => [cmd, Number(type)]));

/** Byte properties mqtt-packet represents as booleans. */
const BOOLEAN_PROPS = new Set([
  'payloadFormatIndicator',
  'requestProblemInformation',
  'requestResponseInformation',
  'retainAvailable',
  'wildcardSubscriptionAvailable',
  'subscriptionIdentifiersAvailable',
  'sharedSubscriptionAvailable',
]);

function propsToMqtt(props: Properties | undefined): MqttProps | undefined {
  if (props === undefined) return undefined;
  const out: MqttProps = {};
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined) continue;
    if (key === 'userProperties') {
      const users: MqttUserProps = {};
      for (const [name, v] of value as UserProperty[]) {
        const seen = users[name];
        users[name] = seen === undefined ? v : Array.isArray(seen) ? [...seen, v] : [seen, v];
      }
      out.userProperties = users;
    } else if (key === 'subscriptionIdentifiers') {
      const ids = value as number[];
      out.subscriptionIdentifier = ids.length === 1 ? ids[0] : ids;
    } else if (key === 'maximumQos') {
      out.maximumQoS = value;
    } else if (BOOLEAN_PROPS.has(key)) {
      out[key] = value === 1;
    } else {
      out[key] = value;
    }
  }
  return out;
}

function propsFromMqtt(props: MqttProps | undefined): Properties | undefined {
  if (props === undefined) return undefined;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(props)) {
    if (key === 'userProperties') {
      const pairs: UserProperty[] = [];
      for (const [name, v] of Object.entries(value as MqttUserProps)) {
        for (const one of Array.isArray(v) ? v : [v]) pairs.push([name, one]);
      }
      out.userProperties = pairs;
    } else if (key === 'subscriptionIdentifier') {
      out.subscriptionIdentifiers = Array.isArray(value) ? value : [value];
    } else if (key === 'maximumQoS') {
      out.maximumQos = value;
    } else if (BOOLEAN_PROPS.has(key)) {
      out[key] = value ? 1 : 0;
    } else {
      out[key] = value;
    }
  }
  return out as Properties;
}

export function toMqtt(p: Packet, version: ProtocolVersion): mqttPacket.Packet {
  const cmd = CMD[p.type];
  let out: Record<string, unknown>;
  switch (p.type) {
    case PacketType.CONNECT:
      out = {
        protocolId: p.protocolName,
        protocolVersion: p.protocolVersion,
        clean: p.cleanStart,
        keepalive: p.keepAlive,
        clientId: p.clientId,
        username: p.username,
        password: p.password,
        will: p.will && { ...p.will, properties: propsToMqtt(p.will.properties) },
      };
      break;
    case PacketType.CONNACK:
      out = { sessionPresent: p.sessionPresent, [version === 5 ? 'reasonCode' : 'returnCode']: p.reasonCode };
      break;
    case PacketType.PUBLISH:
      out = {
        topic: p.topic,
        payload: p.payload,
        qos: p.qos,
        retain: p.retain,
        dup: p.dup,
        messageId: p.qos > 0 ? p.packetId : undefined,
      };
      break;
    case PacketType.PUBACK:
    case PacketType.PUBREC:
    case PacketType.PUBREL:
    case PacketType.PUBCOMP:
      out = { messageId: p.packetId, reasonCode: p.reasonCode };
      break;
    case PacketType.SUBSCRIBE:
      out = {
        messageId: p.packetId,
        subscriptions: p.subscriptions.map((s) => ({
          topic: s.filter,
          qos: s.qos,
          nl: s.noLocal,
          rap: s.retainAsPublished,
          rh: s.retainHandling,
        })),
      };
      break;
    case PacketType.SUBACK:
    case PacketType.UNSUBACK:
      out = { messageId: p.packetId, granted: p.reasonCodes };
      break;
    case PacketType.UNSUBSCRIBE:
      out = { messageId: p.packetId, unsubscriptions: p.filters };
      break;
    case PacketType.DISCONNECT:
    case PacketType.AUTH:
      out = { reasonCode: p.reasonCode };
      break;
    default:
      out = {};
  }
  out.cmd = cmd;
  if ('properties' in p) out.properties = propsToMqtt(p.properties);
  return out as unknown as mqttPacket.Packet;
}

export function fromMqtt(m: mqttPacket.Packet): Packet {
  const type = TYPE[m.cmd];
  const properties = propsFromMqtt((m as { properties?: MqttProps }).properties);
  switch (m.cmd) {
    case 'connect':
      return {
        type: PacketType.CONNECT,
        protocolName: m.protocolId ?? 'MQTT',
        protocolVersion: m.protocolVersion ?? 4,
        cleanStart: m.clean ?? true,
        keepAlive: m.keepalive ?? 0,
        clientId: m.clientId,
        username: m.username,
        password: m.password,
        will: m.will && {
          topic: m.will.topic,
          payload: m.will.payload as Buffer,
          qos: m.will.qos ?? 0,
          retain: m.will.retain ?? false,
          properties: propsFromMqtt(m.will.properties as MqttProps | undefined),
        },
        properties,
      };
    case 'connack':
      return {
        type: PacketType.CONNACK,
        sessionPresent: m.sessionPresent,
        reasonCode: m.reasonCode ?? m.returnCode ?? -1,
        properties,
      };
    case 'publish':
      return {
        type: PacketType.PUBLISH,
        topic: m.topic,
        payload: m.payload as Buffer,
        qos: m.qos,
        retain: m.retain,
        dup: m.dup,
        packetId: m.messageId ?? 0,
        properties,
      };
    case 'puback':
    case 'pubrec':
    case 'pubrel':
    case 'pubcomp':
      return {
        type: type as 4 | 5 | 6 | 7,
        packetId: m.messageId ?? -1,
        reasonCode: m.reasonCode ?? 0,
        properties,
      };
    case 'subscribe':
      return {
        type: PacketType.SUBSCRIBE,
        packetId: m.messageId ?? -1,
        subscriptions: m.subscriptions.map((s) => ({
          filter: s.topic,
          qos: s.qos,
          noLocal: s.nl ?? false,
          retainAsPublished: s.rap ?? false,
          retainHandling: (s.rh ?? 0) as 0 | 1 | 2,
        })),
        properties,
      };
    case 'suback':
      return {
        type: PacketType.SUBACK,
        packetId: m.messageId ?? -1,
        reasonCodes: m.granted as number[],
        properties,
      };
    case 'unsubscribe':
      return {
        type: PacketType.UNSUBSCRIBE,
        packetId: m.messageId ?? -1,
        filters: m.unsubscriptions,
        properties,
      };
    case 'unsuback':
      return {
        type: PacketType.UNSUBACK,
        packetId: m.messageId ?? -1,
        reasonCodes: m.granted ?? [],
        properties,
      };
    case 'pingreq':
      return { type: PacketType.PINGREQ };
    case 'pingresp':
      return { type: PacketType.PINGRESP };
    case 'disconnect':
      return { type: PacketType.DISCONNECT, reasonCode: m.reasonCode ?? 0, properties };
    case 'auth':
      return { type: PacketType.AUTH, reasonCode: m.reasonCode, properties };
  }
}

export function mqttGenerate(p: Packet, version: ProtocolVersion): Buffer {
  return mqttPacket.generate(toMqtt(p, version), { protocolVersion: version });
}

/** Parses exactly one packet with mqtt-packet, failing on its errors. */
export function mqttParse(bytes: Buffer, version: ProtocolVersion): Packet {
  const parser = mqttPacket.parser({ protocolVersion: version });
  const packets: mqttPacket.Packet[] = [];
  const errors: unknown[] = [];
  parser.on('packet', (p) => packets.push(p));
  parser.on('error', (e) => errors.push(e));
  parser.parse(bytes);
  if (errors.length > 0) throw errors[0];
  if (packets.length !== 1) throw new Error(`mqtt-packet parsed ${packets.length} packets`);
  return fromMqtt(packets[0]);
}
