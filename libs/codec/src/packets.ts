// MQTT control packets as plain objects, one shape for 3.1, 3.1.1 and 5.0. Version-specific fields
// (reason codes, properties) are simply absent or defaulted when the protocol has no room for them.

export const PacketType = {
  CONNECT: 1,
  CONNACK: 2,
  PUBLISH: 3,
  PUBACK: 4,
  PUBREC: 5,
  PUBREL: 6,
  PUBCOMP: 7,
  SUBSCRIBE: 8,
  SUBACK: 9,
  UNSUBSCRIBE: 10,
  UNSUBACK: 11,
  PINGREQ: 12,
  PINGRESP: 13,
  DISCONNECT: 14,
  AUTH: 15,
} as const;

/** Packet type names (CONNECT, ...) indexed by packet type, for logs and metrics. */
export const PACKET_TYPE_NAMES: readonly string[] = Object.entries(PacketType).reduce<string[]>(
  (names, [name, type]) => ((names[type] = name), names),
  ['reserved'],
);

/** Protocol level as sent in CONNECT: 3 = MQTT 3.1 (MQIsdp), 4 = 3.1.1, 5 = 5.0. */
export type ProtocolVersion = 3 | 4 | 5;
export type QoS = 0 | 1 | 2;
export type UserProperty = [name: string, value: string];

/** MQTT 5.0 properties. Each packet type carries only the ones the spec allows for it. */
export interface Properties {
  payloadFormatIndicator?: number;
  messageExpiryInterval?: number;
  contentType?: string;
  responseTopic?: string;
  correlationData?: Buffer;
  subscriptionIdentifiers?: number[];
  sessionExpiryInterval?: number;
  assignedClientIdentifier?: string;
  serverKeepAlive?: number;
  authenticationMethod?: string;
  authenticationData?: Buffer;
  requestProblemInformation?: number;
  willDelayInterval?: number;
  requestResponseInformation?: number;
  responseInformation?: string;
  serverReference?: string;
  reasonString?: string;
  receiveMaximum?: number;
  topicAliasMaximum?: number;
  topicAlias?: number;
  maximumQos?: number;
  retainAvailable?: number;
  /** In wire order; names may repeat. */
  userProperties?: UserProperty[];
  maximumPacketSize?: number;
  wildcardSubscriptionAvailable?: number;
  subscriptionIdentifiersAvailable?: number;
  sharedSubscriptionAvailable?: number;
}

export interface Will {
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  properties?: Properties;
}

export interface ConnectPacket {
  type: typeof PacketType.CONNECT;
  protocolName: string;
  protocolVersion: ProtocolVersion;
  cleanStart: boolean;
  keepAlive: number;
  clientId: string;
  username?: string;
  password?: Buffer;
  will?: Will;
  properties?: Properties;
}

export interface ConnackPacket {
  type: typeof PacketType.CONNACK;
  sessionPresent: boolean;
  /** 5.0 reason code, or the 3.1.1 return code (0-5). */
  reasonCode: number;
  properties?: Properties;
}

export interface PublishPacket {
  type: typeof PacketType.PUBLISH;
  topic: string;
  /** A view into the received bytes, not a copy: copy it before keeping it beyond the current packet. */
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  dup: boolean;
  /** 0 for QoS 0. */
  packetId: number;
  properties?: Properties;
}

export interface AckPacket {
  type:
    | typeof PacketType.PUBACK
    | typeof PacketType.PUBREC
    | typeof PacketType.PUBREL
    | typeof PacketType.PUBCOMP;
  packetId: number;
  /** 0 when absent on the wire (always in 3.1.1). */
  reasonCode: number;
  properties?: Properties;
}

export interface Subscription {
  filter: string;
  qos: QoS;
  noLocal: boolean;
  retainAsPublished: boolean;
  retainHandling: 0 | 1 | 2;
}

export interface SubscribePacket {
  type: typeof PacketType.SUBSCRIBE;
  packetId: number;
  subscriptions: Subscription[];
  properties?: Properties;
}

export interface SubackPacket {
  type: typeof PacketType.SUBACK;
  packetId: number;
  /** Granted QoS (0-2) or a failure code (0x80 in 3.1.1; 0x80-0xA2 in 5.0), one per filter. */
  reasonCodes: number[];
  properties?: Properties;
}

export interface UnsubscribePacket {
  type: typeof PacketType.UNSUBSCRIBE;
  packetId: number;
  filters: string[];
  properties?: Properties;
}

export interface UnsubackPacket {
  type: typeof PacketType.UNSUBACK;
  packetId: number;
  /** One per filter in 5.0; empty for 3.1.1, which has none on the wire. */
  reasonCodes: number[];
  properties?: Properties;
}

export interface PingreqPacket {
  type: typeof PacketType.PINGREQ;
}

export interface PingrespPacket {
  type: typeof PacketType.PINGRESP;
}

export interface DisconnectPacket {
  type: typeof PacketType.DISCONNECT;
  /** 0 when absent on the wire (always in 3.1.1). */
  reasonCode: number;
  properties?: Properties;
}

export interface AuthPacket {
  type: typeof PacketType.AUTH;
  reasonCode: number;
  properties?: Properties;
}

export type Packet =
  | ConnectPacket
  | ConnackPacket
  | PublishPacket
  | AckPacket
  | SubscribePacket
  | SubackPacket
  | UnsubscribePacket
  | UnsubackPacket
  | PingreqPacket
  | PingrespPacket
  | DisconnectPacket
  | AuthPacket;
