// MQTT 5.0 property identifiers and where each may appear (spec 2.2.2.2, Table 2-4).

export const PropertyId = {
  payloadFormatIndicator: 0x01,
  messageExpiryInterval: 0x02,
  contentType: 0x03,
  responseTopic: 0x08,
  correlationData: 0x09,
  subscriptionIdentifier: 0x0b,
  sessionExpiryInterval: 0x11,
  assignedClientIdentifier: 0x12,
  serverKeepAlive: 0x13,
  authenticationMethod: 0x15,
  authenticationData: 0x16,
  requestProblemInformation: 0x17,
  willDelayInterval: 0x18,
  requestResponseInformation: 0x19,
  responseInformation: 0x1a,
  serverReference: 0x1c,
  reasonString: 0x1f,
  receiveMaximum: 0x21,
  topicAliasMaximum: 0x22,
  topicAlias: 0x23,
  maximumQos: 0x24,
  retainAvailable: 0x25,
  userProperty: 0x26,
  maximumPacketSize: 0x27,
  wildcardSubscriptionAvailable: 0x28,
  subscriptionIdentifiersAvailable: 0x29,
  sharedSubscriptionAvailable: 0x2a,
} as const;

/** Property contexts are packet types 1-15, plus the will properties inside CONNECT. */
export const WILL_CONTEXT = 16;

/** Display names for error messages, indexed by packet type (or WILL_CONTEXT). */
export const CONTEXT_NAME: readonly string[] = [
  'reserved packet type 0',
  'CONNECT',
  'CONNACK',
  'PUBLISH',
  'PUBACK',
  'PUBREC',
  'PUBREL',
  'PUBCOMP',
  'SUBSCRIBE',
  'SUBACK',
  'UNSUBSCRIBE',
  'UNSUBACK',
  'PINGREQ',
  'PINGRESP',
  'DISCONNECT',
  'AUTH',
  'CONNECT will',
];

const CONNECT = 1 << 1;
const CONNACK = 1 << 2;
const PUBLISH = 1 << 3;
const ACKS = (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7);
const SUBSCRIBE = 1 << 8;
const SUBACK = 1 << 9;
const UNSUBACK = 1 << 11;
const DISCONNECT = 1 << 14;
const AUTH = 1 << 15;
const WILL = 1 << WILL_CONTEXT;
const ANY = 0x1fffe;

/** Bit set of contexts allowing each property id; 0 for ids the spec does not define. */
export const ALLOWED_IN: readonly number[] = (() => {
  const allowed: number[] = new Array<number>(0x2b).fill(0);
  const id = PropertyId;
  allowed[id.payloadFormatIndicator] = PUBLISH | WILL;
  allowed[id.messageExpiryInterval] = PUBLISH | WILL;
  allowed[id.contentType] = PUBLISH | WILL;
  allowed[id.responseTopic] = PUBLISH | WILL;
  allowed[id.correlationData] = PUBLISH | WILL;
  allowed[id.subscriptionIdentifier] = PUBLISH | SUBSCRIBE;
  allowed[id.sessionExpiryInterval] = CONNECT | CONNACK | DISCONNECT;
  allowed[id.assignedClientIdentifier] = CONNACK;
  allowed[id.serverKeepAlive] = CONNACK;
  allowed[id.authenticationMethod] = CONNECT | CONNACK | AUTH;
  allowed[id.authenticationData] = CONNECT | CONNACK | AUTH;
  allowed[id.requestProblemInformation] = CONNECT;
  allowed[id.willDelayInterval] = WILL;
  allowed[id.requestResponseInformation] = CONNECT;
  allowed[id.responseInformation] = CONNACK;
  allowed[id.serverReference] = CONNACK | DISCONNECT;
  allowed[id.reasonString] = CONNACK | ACKS | SUBACK | UNSUBACK | DISCONNECT | AUTH;
  allowed[id.receiveMaximum] = CONNECT | CONNACK;
  allowed[id.topicAliasMaximum] = CONNECT | CONNACK;
  allowed[id.topicAlias] = PUBLISH;
  allowed[id.maximumQos] = CONNACK;
  allowed[id.retainAvailable] = CONNACK;
  allowed[id.userProperty] = ANY;
  allowed[id.maximumPacketSize] = CONNECT | CONNACK;
  allowed[id.wildcardSubscriptionAvailable] = CONNACK;
  allowed[id.subscriptionIdentifiersAvailable] = CONNACK;
  allowed[id.sharedSubscriptionAvailable] = CONNACK;
  return allowed;
})();

/** Spec names with the id, for error messages, indexed by property id. */
export const PROPERTY_NAME: readonly string[] = (() => {
  const names: string[] = [];
  for (const [key, id] of Object.entries(PropertyId)) {
    const words = key.replace(/([A-Z])/g, ' $1');
    names[id] = `${words[0].toUpperCase()}${words.slice(1)} (0x${id.toString(16).padStart(2, '0')})`;
  }
  return names;
})();
