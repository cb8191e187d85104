import { PacketType, ReasonCode, type ConnectPacket, type Properties } from '@fluxmq/codec';
import { ClientState, type Client } from '../client';
import type { AuthResult } from '../hooks';
import { NEVER_EXPIRES } from '../session';
import { topicNameError } from '../topics';

/** 5.0 CONNACK reason codes and the nearest 3.1.1 return code (spec 3.2.2.3). */
function returnCodeFor(reasonCode: number): number {
  switch (reasonCode) {
    case ReasonCode.UnsupportedProtocolVersion:
      return 1;
    case ReasonCode.ClientIdentifierNotValid:
      return 2;
    case ReasonCode.BadUserNameOrPassword:
      return 4;
    case ReasonCode.NotAuthorized:
    case ReasonCode.Banned:
      return 5;
    default:
      return 3; // server unavailable
  }
}

function refuse(client: Client, reasonCode: number, why: string): void {
  const v5 = client.protocolVersion === 5;
  const trace = client.connectTrace;
  client.connectTrace = undefined;
  client.broker.log.info(`connection refused: ${why}`, {
    clientId: client.clientId,
    remote: client.remoteAddress,
    reasonCode,
    ...trace?.logFields,
  });
  trace?.end({ reasonCode, errorType: 'refused' });
  client.writePacket({
    type: PacketType.CONNACK,
    sessionPresent: false,
    reasonCode: v5 ? reasonCode : returnCodeFor(reasonCode),
    properties: v5 ? { reasonString: why } : undefined,
  });
  client.broker.stats.count(client.broker.stats.connacks, reasonCode);
  client.broker.observer?.connectRefused?.(client, reasonCode);
  client.terminate('not_authorized', reasonCode);
}

export function handleConnect(client: Client, packet: ConnectPacket): Promise<void> | void {
  const broker = client.broker;
  const config = broker.config;
  const v5 = packet.protocolVersion === 5;
  client.protocolVersion = packet.protocolVersion;
  client.clientId = packet.clientId;
  client.state = ClientState.Connecting;
  client.connectTrace = broker.hooks.tracer?.startControl('connect', client);

  let assigned = false;
  if (client.clientId === '') {
    // 3.1.1 lets a server assign an id only to a clean session (spec 3.1.3-8); 5.0 always may.
    if (!v5 && !packet.cleanStart)
      return refuse(client, ReasonCode.ClientIdentifierNotValid, 'empty client id');
    client.clientId = broker.newClientId();
    assigned = v5;
  }
  if (Buffer.byteLength(client.clientId) > config.maxClientIdLength) {
    return refuse(
      client,
      ReasonCode.ClientIdentifierNotValid,
      `client id longer than ${config.maxClientIdLength}`,
    );
  }
  if (!v5 && config.maxKeepAlive > 0 && (packet.keepAlive === 0 || packet.keepAlive > config.maxKeepAlive)) {
    // 3.1.1 has no Server Keep Alive to tell the client, so refuse as Mosquitto does.
    return refuse(client, ReasonCode.ClientIdentifierNotValid, `keep alive above ${config.maxKeepAlive} s`);
  }
  const will = packet.will;
  if (will) {
    const err = topicNameError(will.topic, config);
    if (err) return refuse(client, ReasonCode.TopicNameInvalid, `will ${err}`);
    if (will.qos > config.maxQos) return refuse(client, ReasonCode.QoSNotSupported, 'will QoS above maximum');
    if (will.retain && !config.retainAvailable)
      return refuse(client, ReasonCode.RetainNotSupported, 'retain');
  }
  const props = packet.properties;
  if (v5 && (props?.receiveMaximum === 0 || props?.maximumPacketSize === 0)) {
    client.disconnect('protocol_error', ReasonCode.ProtocolError);
    return;
  }
  const limiter = broker.hooks.rateLimiter;
  if (limiter?.allowConnect && !limiter.allowConnect(client.remoteAddress, client.listener)) {
    return refuse(client, ReasonCode.ConnectionRateExceeded, 'connection rate exceeded');
  }
  client.username = packet.username;

  const authenticator = broker.hooks.authenticator;
  if (!authenticator) return accept(client, packet, assigned, { ok: true });
  const result = authenticator.authenticate({
    clientId: client.clientId,
    username: packet.username,
    password: packet.password,
    remoteAddress: client.remoteAddress,
    listener: client.listener,
    protocolVersion: client.protocolVersion,
    properties: props,
    certificate: client.transport.certificate,
  });
  if (result instanceof Promise) return result.then((r) => accept(client, packet, assigned, r));
  return accept(client, packet, assigned, result);
}

function accept(client: Client, packet: ConnectPacket, assigned: boolean, auth: AuthResult): void {
  if (client.state === ClientState.Closed) return; // the socket went away while authentication ran
  const broker = client.broker;
  if (broker.hooks.authenticator) {
    if (auth.ok) broker.stats.authSuccesses++;
    else broker.stats.authFailures++;
    broker.observer?.authenticated?.(client, auth.ok);
  }
  if (!auth.ok) return refuse(client, auth.reasonCode, auth.reason ?? 'authentication failed');
  if (auth.username !== undefined) client.username = auth.username;

  const config = broker.config;
  const v5 = client.protocolVersion === 5;
  const props = packet.properties;
  const connack: Properties = {};

  client.keepAlive = packet.keepAlive;
  if (v5 && config.maxKeepAlive > 0 && (packet.keepAlive === 0 || packet.keepAlive > config.maxKeepAlive)) {
    client.keepAlive = config.maxKeepAlive;
    connack.serverKeepAlive = config.maxKeepAlive;
  }
  let expiry = v5 ? (props?.sessionExpiryInterval ?? 0) : packet.cleanStart ? 0 : NEVER_EXPIRES;
  if (expiry > config.maxSessionExpiryInterval) {
    expiry = config.maxSessionExpiryInterval;
    connack.sessionExpiryInterval = expiry;
  }
  if (v5) {
    client.receiveMaximum = props?.receiveMaximum ?? 65535;
    client.maxPacketSize = props?.maximumPacketSize ?? client.maxPacketSize;
    client.topicAliasMaximum = props?.topicAliasMaximum ?? 0;
    if (client.topicAliasMaximum > 0) client.outboundAliases = new Map();
    client.requestProblemInformation = props?.requestProblemInformation !== 0;
    if (assigned) connack.assignedClientIdentifier = client.clientId;
    connack.receiveMaximum = config.receiveMaximum;
    connack.maximumPacketSize = config.maxPacketSize;
    if (config.topicAliasMaximum > 0) connack.topicAliasMaximum = config.topicAliasMaximum;
    // Absent means "available" / QoS 2 (spec 3.2.2.3), so only restrictions are sent.
    if (config.maxQos < 2) connack.maximumQos = config.maxQos;
    if (!config.retainAvailable) connack.retainAvailable = 0;
    if (!config.wildcardSubscriptionAvailable) connack.wildcardSubscriptionAvailable = 0;
    if (!config.subscriptionIdentifiersAvailable) connack.subscriptionIdentifiersAvailable = 0;
    if (!config.sharedSubscriptionAvailable) connack.sharedSubscriptionAvailable = 0;
  }
  const { maxSessions } = config;
  if (maxSessions > 0 && broker.sessions.size >= maxSessions && !broker.sessions.has(client.clientId)) {
    return refuse(client, ReasonCode.QuotaExceeded, `session limit of ${maxSessions} reached`);
  }
  // The will outlives this read: copy its payload so it does not pin the socket buffer for the whole session.
  client.will = packet.will && { ...packet.will, payload: Buffer.from(packet.will.payload) };

  const { session, present } = broker.attachSession(client, packet.cleanStart, expiry);
  client.state = ClientState.Connected;
  const stats = broker.stats;
  stats.clientsConnected++;
  if (stats.clientsConnected > stats.clientsMaximum) stats.clientsMaximum = stats.clientsConnected;
  stats.count(stats.connacks, 0);
  client.writePacket({
    type: PacketType.CONNACK,
    sessionPresent: present,
    reasonCode: 0,
    properties: v5 ? connack : undefined,
  });
  const trace = client.connectTrace;
  client.connectTrace = undefined;
  broker.log.info('client connected', {
    clientId: client.clientId,
    remote: client.remoteAddress,
    listener: client.listener,
    protocolVersion: client.protocolVersion,
    cleanStart: packet.cleanStart,
    sessionPresent: present,
    keepAlive: client.keepAlive,
    ...trace?.logFields,
  });
  trace?.end({ reasonCode: 0, sessionPresent: present });
  broker.observer?.clientConnected?.(client, present);
  session.resume();
}
