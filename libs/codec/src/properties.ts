import { MALFORMED, PROTOCOL_ERROR, type DecodeError } from './errors';
import { PacketType, type Properties } from './packets';
import { ALLOWED_IN, CONTEXT_NAME, PROPERTY_NAME, PropertyId as P } from './property-ids';
import type { Reader } from './reader';

// Precomputed so the hot path never builds strings; they are only read when something is wrong.
const LENGTH_WHAT = CONTEXT_NAME.map((name) => `${name} property length`);
const VALUE_WHAT = PROPERTY_NAME.map((name) => `${name} value`);
const USER_NAME_WHAT = 'User Property (0x26) name';
const USER_VALUE_WHAT = 'User Property (0x26) value';

/**
 * Reads a 5.0 property block for the given context (packet type, or WILL_CONTEXT). Returns undefined
 * for an empty block so that property-less packets allocate nothing.
 */
export function readProperties(r: Reader, context: number): Properties | undefined {
  const length = r.varint(LENGTH_WHAT[context]);
  if (length === 0) return undefined;
  const end = r.pos + length;
  if (end > r.end) {
    throw r.fail(
      MALFORMED,
      `${CONTEXT_NAME[context]} property length ${length} overruns the packet by ${end - r.end} bytes`,
    );
  }
  const packetEnd = r.end;
  r.end = end;
  r.inProperties = true;
  const props: Properties = {};
  const contextBit = 1 << context;
  while (r.pos < end) {
    // Identifiers are variable byte integers, but every defined one fits in a single byte.
    const id = r.buf[r.pos++];
    const allowedIn = id < ALLOWED_IN.length ? ALLOWED_IN[id] : 0;
    if (allowedIn === 0) {
      throw r.fail(
        MALFORMED,
        `${CONTEXT_NAME[context]} has unknown property identifier 0x${id.toString(16)}`,
      );
    }
    if ((allowedIn & contextBit) === 0) {
      throw r.fail(PROTOCOL_ERROR, `${PROPERTY_NAME[id]} is not allowed in ${CONTEXT_NAME[context]}`);
    }
    readProperty(r, id, props, context);
  }
  r.end = packetEnd;
  r.inProperties = false;
  if (props.authenticationData !== undefined && props.authenticationMethod === undefined) {
    throw r.fail(
      PROTOCOL_ERROR,
      `${CONTEXT_NAME[context]} has Authentication Data without an Authentication Method`,
    );
  }
  return props;
}

function readProperty(r: Reader, id: number, props: Properties, context: number): void {
  switch (id) {
    case P.payloadFormatIndicator:
      if (props.payloadFormatIndicator !== undefined) throw repeated(r, id, context);
      props.payloadFormatIndicator = zeroOrOne(r, id);
      break;
    case P.messageExpiryInterval:
      if (props.messageExpiryInterval !== undefined) throw repeated(r, id, context);
      props.messageExpiryInterval = r.u32(VALUE_WHAT[id]);
      break;
    case P.contentType:
      if (props.contentType !== undefined) throw repeated(r, id, context);
      props.contentType = r.utf8(VALUE_WHAT[id]);
      break;
    case P.responseTopic:
      if (props.responseTopic !== undefined) throw repeated(r, id, context);
      props.responseTopic = r.utf8(VALUE_WHAT[id]);
      break;
    case P.correlationData:
      if (props.correlationData !== undefined) throw repeated(r, id, context);
      props.correlationData = r.binary(VALUE_WHAT[id]);
      break;
    case P.subscriptionIdentifier: {
      const value = r.varint(VALUE_WHAT[id]);
      if (value === 0) throw r.fail(PROTOCOL_ERROR, `${PROPERTY_NAME[id]} is 0`);
      // A PUBLISH carries one per matching subscription; a SUBSCRIBE sets exactly one.
      if (props.subscriptionIdentifiers === undefined) props.subscriptionIdentifiers = [value];
      else if (context === PacketType.PUBLISH) props.subscriptionIdentifiers.push(value);
      else throw repeated(r, id, context);
      break;
    }
    case P.sessionExpiryInterval:
      if (props.sessionExpiryInterval !== undefined) throw repeated(r, id, context);
      props.sessionExpiryInterval = r.u32(VALUE_WHAT[id]);
      break;
    case P.assignedClientIdentifier:
      if (props.assignedClientIdentifier !== undefined) throw repeated(r, id, context);
      props.assignedClientIdentifier = r.utf8(VALUE_WHAT[id]);
      break;
    case P.serverKeepAlive:
      if (props.serverKeepAlive !== undefined) throw repeated(r, id, context);
      props.serverKeepAlive = r.u16(VALUE_WHAT[id]);
      break;
    case P.authenticationMethod:
      if (props.authenticationMethod !== undefined) throw repeated(r, id, context);
      props.authenticationMethod = r.utf8(VALUE_WHAT[id]);
      break;
    case P.authenticationData:
      if (props.authenticationData !== undefined) throw repeated(r, id, context);
      props.authenticationData = r.binary(VALUE_WHAT[id]);
      break;
    case P.requestProblemInformation:
      if (props.requestProblemInformation !== undefined) throw repeated(r, id, context);
      props.requestProblemInformation = zeroOrOne(r, id);
      break;
    case P.willDelayInterval:
      if (props.willDelayInterval !== undefined) throw repeated(r, id, context);
      props.willDelayInterval = r.u32(VALUE_WHAT[id]);
      break;
    case P.requestResponseInformation:
      if (props.requestResponseInformation !== undefined) throw repeated(r, id, context);
      props.requestResponseInformation = zeroOrOne(r, id);
      break;
    case P.responseInformation:
      if (props.responseInformation !== undefined) throw repeated(r, id, context);
      props.responseInformation = r.utf8(VALUE_WHAT[id]);
      break;
    case P.serverReference:
      if (props.serverReference !== undefined) throw repeated(r, id, context);
      props.serverReference = r.utf8(VALUE_WHAT[id]);
      break;
    case P.reasonString:
      if (props.reasonString !== undefined) throw repeated(r, id, context);
      props.reasonString = r.utf8(VALUE_WHAT[id]);
      break;
    case P.receiveMaximum:
      if (props.receiveMaximum !== undefined) throw repeated(r, id, context);
      props.receiveMaximum = nonZero(r, id, r.u16(VALUE_WHAT[id]));
      break;
    case P.topicAliasMaximum:
      if (props.topicAliasMaximum !== undefined) throw repeated(r, id, context);
      props.topicAliasMaximum = r.u16(VALUE_WHAT[id]);
      break;
    case P.topicAlias:
      // 0 and values above the negotiated maximum are the engine's to reject, with 0x94.
      if (props.topicAlias !== undefined) throw repeated(r, id, context);
      props.topicAlias = r.u16(VALUE_WHAT[id]);
      break;
    case P.maximumQos:
      if (props.maximumQos !== undefined) throw repeated(r, id, context);
      props.maximumQos = zeroOrOne(r, id);
      break;
    case P.retainAvailable:
      if (props.retainAvailable !== undefined) throw repeated(r, id, context);
      props.retainAvailable = zeroOrOne(r, id);
      break;
    case P.userProperty: {
      const name = r.utf8(USER_NAME_WHAT);
      const value = r.utf8(USER_VALUE_WHAT);
      if (props.userProperties === undefined) props.userProperties = [[name, value]];
      else props.userProperties.push([name, value]);
      break;
    }
    case P.maximumPacketSize:
      if (props.maximumPacketSize !== undefined) throw repeated(r, id, context);
      props.maximumPacketSize = nonZero(r, id, r.u32(VALUE_WHAT[id]));
      break;
    case P.wildcardSubscriptionAvailable:
      if (props.wildcardSubscriptionAvailable !== undefined) throw repeated(r, id, context);
      props.wildcardSubscriptionAvailable = zeroOrOne(r, id);
      break;
    case P.subscriptionIdentifiersAvailable:
      if (props.subscriptionIdentifiersAvailable !== undefined) throw repeated(r, id, context);
      props.subscriptionIdentifiersAvailable = zeroOrOne(r, id);
      break;
    case P.sharedSubscriptionAvailable:
      if (props.sharedSubscriptionAvailable !== undefined) throw repeated(r, id, context);
      props.sharedSubscriptionAvailable = zeroOrOne(r, id);
      break;
  }
}

function repeated(r: Reader, id: number, context: number): DecodeError {
  return r.fail(PROTOCOL_ERROR, `${PROPERTY_NAME[id]} appears more than once in ${CONTEXT_NAME[context]}`);
}

function zeroOrOne(r: Reader, id: number): number {
  const value = r.u8(VALUE_WHAT[id]);
  if (value > 1) throw r.fail(PROTOCOL_ERROR, `${PROPERTY_NAME[id]} is ${value}; it must be 0 or 1`);
  return value;
}

function nonZero(r: Reader, id: number, value: number): number {
  if (value === 0) throw r.fail(PROTOCOL_ERROR, `${PROPERTY_NAME[id]} is 0`);
  return value;
}
