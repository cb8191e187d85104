import type { Properties } from './packets';
import { PropertyId as P } from './property-ids';
import {
  binarySize,
  stringSize,
  varintSize,
  writeBinary,
  writeString,
  writeU16,
  writeU32,
  writeVarint,
} from './wire';

/**
 * Size of a property block's content (without its length prefix). Properties are written in id
 * order; user properties keep their array order.
 */
export function propertiesSize(props: Properties | undefined): number {
  if (props === undefined) return 0;
  let n = 0;
  if (props.payloadFormatIndicator !== undefined) n += 2;
  if (props.messageExpiryInterval !== undefined) n += 5;
  if (props.contentType !== undefined) n += 1 + stringSize(props.contentType, 'Content Type');
  if (props.responseTopic !== undefined) n += 1 + stringSize(props.responseTopic, 'Response Topic');
  if (props.correlationData !== undefined) n += 1 + binarySize(props.correlationData, 'Correlation Data');
  if (props.subscriptionIdentifiers !== undefined) {
    for (const id of props.subscriptionIdentifiers) n += 1 + varintSize(id);
  }
  if (props.sessionExpiryInterval !== undefined) n += 5;
  if (props.assignedClientIdentifier !== undefined) {
    n += 1 + stringSize(props.assignedClientIdentifier, 'Assigned Client Identifier');
  }
  if (props.serverKeepAlive !== undefined) n += 3;
  if (props.authenticationMethod !== undefined) {
    n += 1 + stringSize(props.authenticationMethod, 'Authentication Method');
  }
  if (props.authenticationData !== undefined) {
    n += 1 + binarySize(props.authenticationData, 'Authentication Data');
  }
  if (props.requestProblemInformation !== undefined) n += 2;
  if (props.willDelayInterval !== undefined) n += 5;
  if (props.requestResponseInformation !== undefined) n += 2;
  if (props.responseInformation !== undefined) {
    n += 1 + stringSize(props.responseInformation, 'Response Information');
  }
  if (props.serverReference !== undefined) n += 1 + stringSize(props.serverReference, 'Server Reference');
  if (props.reasonString !== undefined) n += 1 + stringSize(props.reasonString, 'Reason String');
  if (props.receiveMaximum !== undefined) n += 3;
  if (props.topicAliasMaximum !== undefined) n += 3;
  if (props.topicAlias !== undefined) n += 3;
  if (props.maximumQos !== undefined) n += 2;
  if (props.retainAvailable !== undefined) n += 2;
  if (props.userProperties !== undefined) {
    for (const [name, value] of props.userProperties) {
      n += 1 + stringSize(name, 'User Property name') + stringSize(value, 'User Property value');
    }
  }
  if (props.maximumPacketSize !== undefined) n += 5;
  if (props.wildcardSubscriptionAvailable !== undefined) n += 2;
  if (props.subscriptionIdentifiersAvailable !== undefined) n += 2;
  if (props.sharedSubscriptionAvailable !== undefined) n += 2;
  return n;
}

/** Writes the length prefix and the `size` bytes measured by `propertiesSize`. */
export function writeProperties(
  buf: Buffer,
  pos: number,
  props: Properties | undefined,
  size: number,
): number {
  pos = writeVarint(buf, pos, size);
  if (props === undefined || size === 0) return pos;
  if (props.payloadFormatIndicator !== undefined)
    pos = byte(buf, pos, P.payloadFormatIndicator, props.payloadFormatIndicator);
  if (props.messageExpiryInterval !== undefined)
    pos = u32(buf, pos, P.messageExpiryInterval, props.messageExpiryInterval);
  if (props.contentType !== undefined) pos = str(buf, pos, P.contentType, props.contentType);
  if (props.responseTopic !== undefined) pos = str(buf, pos, P.responseTopic, props.responseTopic);
  if (props.correlationData !== undefined) pos = bin(buf, pos, P.correlationData, props.correlationData);
  if (props.subscriptionIdentifiers !== undefined) {
    for (const id of props.subscriptionIdentifiers) {
      buf[pos] = P.subscriptionIdentifier;
      pos = writeVarint(buf, pos + 1, id);
    }
  }
  if (props.sessionExpiryInterval !== undefined)
    pos = u32(buf, pos, P.sessionExpiryInterval, props.sessionExpiryInterval);
  if (props.assignedClientIdentifier !== undefined) {
    pos = str(buf, pos, P.assignedClientIdentifier, props.assignedClientIdentifier);
  }
  if (props.serverKeepAlive !== undefined) pos = u16(buf, pos, P.serverKeepAlive, props.serverKeepAlive);
  if (props.authenticationMethod !== undefined)
    pos = str(buf, pos, P.authenticationMethod, props.authenticationMethod);
  if (props.authenticationData !== undefined)
    pos = bin(buf, pos, P.authenticationData, props.authenticationData);
  if (props.requestProblemInformation !== undefined) {
    pos = byte(buf, pos, P.requestProblemInformation, props.requestProblemInformation);
  }
  if (props.willDelayInterval !== undefined)
    pos = u32(buf, pos, P.willDelayInterval, props.willDelayInterval);
  if (props.requestResponseInformation !== undefined) {
    pos = byte(buf, pos, P.requestResponseInformation, props.requestResponseInformation);
  }
  if (props.responseInformation !== undefined)
    pos = str(buf, pos, P.responseInformation, props.responseInformation);
  if (props.serverReference !== undefined) pos = str(buf, pos, P.serverReference, props.serverReference);
  if (props.reasonString !== undefined) pos = str(buf, pos, P.reasonString, props.reasonString);
  if (props.receiveMaximum !== undefined) pos = u16(buf, pos, P.receiveMaximum, props.receiveMaximum);
  if (props.topicAliasMaximum !== undefined)
    pos = u16(buf, pos, P.topicAliasMaximum, props.topicAliasMaximum);
  if (props.topicAlias !== undefined) pos = u16(buf, pos, P.topicAlias, props.topicAlias);
  if (props.maximumQos !== undefined) pos = byte(buf, pos, P.maximumQos, props.maximumQos);
  if (props.retainAvailable !== undefined) pos = byte(buf, pos, P.retainAvailable, props.retainAvailable);
  if (props.userProperties !== undefined) {
    for (const [name, value] of props.userProperties) {
      buf[pos] = P.userProperty;
      pos = writeString(buf, writeString(buf, pos + 1, name), value);
    }
  }
  if (props.maximumPacketSize !== undefined)
    pos = u32(buf, pos, P.maximumPacketSize, props.maximumPacketSize);
  if (props.wildcardSubscriptionAvailable !== undefined) {
    pos = byte(buf, pos, P.wildcardSubscriptionAvailable, props.wildcardSubscriptionAvailable);
  }
  if (props.subscriptionIdentifiersAvailable !== undefined) {
    pos = byte(buf, pos, P.subscriptionIdentifiersAvailable, props.subscriptionIdentifiersAvailable);
  }
  if (props.sharedSubscriptionAvailable !== undefined) {
    pos = byte(buf, pos, P.sharedSubscriptionAvailable, props.sharedSubscriptionAvailable);
  }
  return pos;
}

function byte(buf: Buffer, pos: number, id: number, value: number): number {
  buf[pos] = id;
  buf[pos + 1] = value;
  return pos + 2;
}

function u16(buf: Buffer, pos: number, id: number, value: number): number {
  buf[pos] = id;
  return writeU16(buf, pos + 1, value);
}

function u32(buf: Buffer, pos: number, id: number, value: number): number {
  buf[pos] = id;
  return writeU32(buf, pos + 1, value);
}

function str(buf: Buffer, pos: number, id: number, value: string): number {
  buf[pos] = id;
  return writeString(buf, pos + 1, value);
}

function bin(buf: Buffer, pos: number, id: number, value: Buffer): number {
  buf[pos] = id;
  return writeBinary(buf, pos + 1, value);
}
