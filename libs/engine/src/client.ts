import { performance } from 'node:perf_hooks';
import {
  DecodeError,
  encode,
  encodePublish,
  PacketDecoder,
  PacketType,
  ReasonCode,
  withPacketId,
  withRetain,
  type Packet,
  type Properties,
  type UserProperty,
  type ProtocolVersion,
  type QoS,
  type Will,
} from '@fluxmq/codec';
import type { Broker } from './broker';
import { handlePacket } from './handlers/dispatch';
import type { ClientInfo, ControlTrace, DeliveryTrace, DisconnectCause } from './hooks';
import type { Message } from './message';
import type { Session } from './session';
import type { Transport, TransportSink } from './transport';

export const enum ClientState {
  AwaitingConnect,
  Connecting,
  Connected,
  Closed,
}

const PINGRESP = Buffer.from([0xd0, 0x00]);
/** How long a closing socket may take to flush its last packets before it is destroyed. */
const CLOSE_GRACE_MS = 1000;
/** Longest Reason String sent, in UTF-16 units (at most 3 bytes each in UTF-8, far below the 65535 limit). */
const MAX_REASON_STRING = 1024;

/** One network connection speaking MQTT: framing, protocol state and the output path. */
export class Client implements TransportSink, ClientInfo {
  state = ClientState.AwaitingConnect;
  clientId = '';
  username: string | undefined;
  protocolVersion: ProtocolVersion = 4;
  session: Session | null = null;
  keepAlive = 0;
  lastSeen = Date.now();
  readonly openedAt = this.lastSeen;
  /** The client's limits on what we send it (5.0 CONNECT properties). */
  receiveMaximum = 65535;
  maxPacketSize = 268435460;
  topicAliasMaximum = 0;
  requestProblemInformation = true;
  will: Will | undefined;
  /** The span of the CONNECT being handled (sampled only), from the packet to CONNACK or the connection's end. */
  connectTrace: ControlTrace | undefined;
  /** Topic aliases the client set towards us, and the ones we set towards it. */
  inboundAliases: Map<number, string> | undefined;
  outboundAliases: Map<string, number> | undefined;
  corked = false;
  /**
   * When the bytes being parsed were read (performance.now()): the receive time of every message in them,
   * one clock read per socket read rather than one per message (a read holds dozens of small PUBLISHes).
   */
  readAt = 0;
  private suspended = false;
  /** Reading stopped because the client is not reading what we send it. */
  private inputPaused = false;
  private readonly decoder: PacketDecoder;

  constructor(
    readonly transport: Transport,
    readonly broker: Broker,
  ) {
    this.decoder = new PacketDecoder({ maxPacketSize: broker.config.maxPacketSize });
    transport.attach(this);
  }

  get remoteAddress(): string {
    return this.transport.remoteAddress;
  }

  get listener(): string {
    return this.transport.listener;
  }

  /** Whether the socket already holds more unsent bytes than one client may (back-pressure). */
  backlogged(): boolean {
    return this.transport.bufferedBytes > this.broker.config.maxOutboundBytes;
  }

  // --- input -------------------------------------------------------------------------------------------

  onData(chunk: Buffer): void {
    // A closed client's socket stays readable while its last packets flush (CLOSE_GRACE_MS). What arrives
    // then is never parsed: keeping it would let a peer that ignores our FIN make the decoder buffer (and
    // re-concatenate, quadratically) everything it can send in that second.
    if (this.state === ClientState.Closed) return;
    this.broker.stats.bytesReceived += chunk.length;
    this.lastSeen = Date.now();
    this.readAt = performance.now();
    this.decoder.push(chunk);
    this.broker.beginBatch();
    this.readPackets();
    this.broker.endBatch();
  }

  private readPackets(): void {
    while (!this.suspended && this.state !== ClientState.Closed) {
      if (this.backlogged()) {
        // Input back-pressure: a client that sends but does not read its answers (acks, PINGRESPs) would
        // otherwise make us buffer them without bound. Read on when its socket drains.
        this.inputPaused = true;
        this.transport.pause();
        return;
      }
      let pending: Promise<void> | void;
      try {
        const packet = this.decoder.next();
        if (packet === null) return;
        const stats = this.broker.stats;
        stats.packetsReceived++;
        stats.packetsReceivedByType[packet.type]++;
        pending = handlePacket(this, packet);
      } catch (err) {
        if (err instanceof DecodeError) this.onDecodeError(err);
        else this.onInternalError(err);
        return;
      }
      if (pending) this.suspendUntil(pending);
    }
  }

  /** A bug, not the client's fault: only this connection pays for it, and the log says where. */
  private onInternalError(err: unknown): void {
    const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
    this.broker.log.error('internal error while handling a packet', { clientId: this.clientId, error });
    this.disconnect('protocol_error', ReasonCode.ImplementationSpecificError);
  }

  /**
   * A hook answered with a Promise: stop reading this client's packets until it settles, so its packets
   * keep their order while other clients carry on.
   */
  private suspendUntil(pending: Promise<void>): void {
    this.suspended = true;
    this.transport.pause();
    pending
      .catch((err: unknown) => {
        this.broker.log.error('hook failed', { clientId: this.clientId, error: String(err) });
        this.disconnect('protocol_error', ReasonCode.UnspecifiedError);
      })
      .then(() => {
        this.suspended = false;
        if (this.state === ClientState.Closed) return;
        if (!this.inputPaused) this.transport.resume();
        this.broker.beginBatch();
        this.readPackets();
        this.broker.endBatch();
      });
  }

  private onDecodeError(err: DecodeError): void {
    const fields = { clientId: this.clientId, remote: this.remoteAddress, reasonCode: err.reasonCode };
    this.broker.log.warn(`closing connection: ${err.message}`, fields);
    if (this.state === ClientState.AwaitingConnect) {
      if (err.reasonCode === ReasonCode.UnsupportedProtocolVersion) {
        // Answer in the version the client asked for when we can tell; else 3.1.1's "unacceptable version".
        const v5 = err.protocolVersion === 5;
        this.protocolVersion = v5 ? 5 : 4;
        this.writePacket({
          type: PacketType.CONNACK,
          sessionPresent: false,
          reasonCode: v5 ? err.reasonCode : 1,
        });
      } else if (this.decoder.protocolVersion === 5) {
        this.protocolVersion = 5;
        this.writePacket({ type: PacketType.CONNACK, sessionPresent: false, reasonCode: err.reasonCode });
      }
      this.broker.stats.count(this.broker.stats.connacks, err.reasonCode);
      this.terminate('malformed_packet', err.reasonCode);
      return;
    }
    const cause = err.reasonCode === ReasonCode.PacketTooLarge ? 'packet_too_large' : 'malformed_packet';
    this.disconnect(cause, err.reasonCode, err.message);
  }

  onDrain(): void {
    this.broker.beginBatch();
    this.session?.pump();
    if (this.inputPaused && !this.backlogged()) {
      this.inputPaused = false;
      if (!this.suspended) {
        this.transport.resume();
        this.readPackets();
      }
    }
    this.broker.endBatch();
  }

  onClose(error?: Error): void {
    if (error) this.broker.log.debug('socket error', { clientId: this.clientId, error: error.message });
    this.terminate('connection_lost', ReasonCode.UnspecifiedError);
  }

  // --- output ------------------------------------------------------------------------------------------

  send(buf: Buffer): void {
    if (this.state === ClientState.Closed) return;
    const broker = this.broker;
    const stats = broker.stats;
    stats.bytesSent += buf.length;
    stats.packetsSent++;
    stats.packetsSentByType[buf[0] >> 4]++;
    if (broker.batching && !this.corked) broker.cork(this);
    this.transport.write(buf);
  }

  /**
   * Encodes and sends a control packet (PUBLISH goes through `writePublish`). A 5.0 Reason String may quote
   * what the client sent (a rejected 65535-byte topic filter, several of them in one SUBACK), so it is
   * shortened to MAX_REASON_STRING characters: the encoder would throw past 65535 bytes, out of the socket's
   * data handler, taking the whole broker down. If the packet still exceeds the client's Maximum Packet
   * Size, the Reason String and User Properties are left out, as the spec requires of every packet that
   * carries them (e.g. [MQTT-3.4.2-2], [MQTT-3.4.2-3]).
   */
  writePacket(packet: Packet): void {
    const reason = 'properties' in packet ? packet.properties?.reasonString : undefined;
    if (reason === undefined || this.protocolVersion !== 5 || !('properties' in packet)) {
      this.send(encode(packet, this.protocolVersion));
      return;
    }
    const properties = packet.properties;
    const short = reason.length > MAX_REASON_STRING ? `${reason.slice(0, MAX_REASON_STRING)}...` : reason;
    let buf = encode({ ...packet, properties: { ...properties, reasonString: short } }, 5);
    if (buf.length > this.maxPacketSize) {
      const bare = { ...properties, reasonString: undefined, userProperties: undefined };
      buf = encode({ ...packet, properties: bare }, 5);
    }
    this.send(buf);
  }

  /** A packet that confirms stored state: held until the store committed it (see `Broker.whenDurable`). */
  writeWhenDurable(packet: Packet): void {
    if (this.broker.store?.holdsAcks) this.broker.whenDurable(() => this.writePacket(packet));
    else this.writePacket(packet);
  }

  writePubrel(packetId: number): void {
    this.writePacket({ type: PacketType.PUBREL, packetId, reasonCode: 0 });
  }

  /**
   * Writes one PUBLISH. Reuses the broker's per-route encoding when this client needs nothing of its own
   * (no subscription ids, no topic aliases); returns false when the packet exceeds the client's maximum
   * packet size and was dropped instead (spec 3.1.2.25).
   */
  writePublish(
    msg: Message,
    qos: QoS,
    retain: boolean,
    subIds: number[] | undefined,
    packetId: number,
    dup: boolean,
    trace?: DeliveryTrace,
  ): boolean {
    const v5 = this.protocolVersion === 5;
    let buf: Buffer;
    if (subIds === undefined && this.outboundAliases === undefined && (trace === undefined || !v5)) {
      const shared = this.broker.encodings.get(msg, v5, qos);
      buf = qos === 0 ? withRetain(shared, retain) : withPacketId(shared, packetId, dup, retain);
    } else buf = this.encodeOwnPublish(msg, qos, retain, subIds, packetId, dup, trace);
    if (buf.length > this.maxPacketSize) {
      this.broker.drop('too_large', msg, this.clientId);
      return false;
    }
    this.send(buf);
    const stats = this.broker.stats;
    stats.messagesSent++;
    stats.publishSent[qos]++;
    stats.payloadBytesSent[qos] += msg.payload.length;
    this.broker.observer?.messageDelivered?.(this.clientId, msg, qos);
    return true;
  }

  /**
   * A PUBLISH only this subscriber gets: with its subscription identifiers, topic alias or trace context.
   * Out of writePublish, which V8 inlines into the PUBLISH path whole, so that this rarer branch does not
   * take up the budget the path is inlined under.
   */
  private encodeOwnPublish(
    msg: Message,
    qos: QoS,
    retain: boolean,
    subIds: number[] | undefined,
    packetId: number,
    dup: boolean,
    trace: DeliveryTrace | undefined,
  ): Buffer {
    let topic = msg.topic;
    let properties: Properties | undefined;
    if (this.protocolVersion === 5) {
      properties = { ...msg.forwardedProperties(), subscriptionIdentifiers: subIds };
      if (trace) properties.userProperties = withTraceContext(properties.userProperties, trace);
      const aliases = this.outboundAliases;
      const known = aliases?.get(topic);
      if (known !== undefined) {
        properties.topicAlias = known; // the client has the topic already: send only the alias
        topic = '';
      } else if (aliases && aliases.size < this.topicAliasMaximum) {
        properties.topicAlias = aliases.size + 1;
        aliases.set(topic, properties.topicAlias);
      }
    }
    const packet = {
      type: PacketType.PUBLISH,
      topic,
      payload: msg.payload,
      qos,
      retain,
      dup,
      packetId,
      properties,
    };
    return encodePublish(packet, this.protocolVersion);
  }

  // --- closing -----------------------------------------------------------------------------------------

  /** Server-initiated close: DISCONNECT with a reason first for 5.0 clients (spec 4.13), then the socket. */
  disconnect(cause: DisconnectCause, reasonCode: number, reason?: string): void {
    if (this.state === ClientState.Closed) return;
    if (this.protocolVersion === 5 && this.state === ClientState.Connected) {
      const properties = reason && this.requestProblemInformation ? { reasonString: reason } : undefined;
      this.writePacket({ type: PacketType.DISCONNECT, reasonCode, properties });
    }
    this.terminate(cause, reasonCode);
  }

  /** Ends the connection's life in the broker at once; the socket follows after flushing. */
  terminate(cause: DisconnectCause, reasonCode: number): void {
    if (this.state === ClientState.Closed) return;
    const wasConnected = this.state === ClientState.Connected;
    this.state = ClientState.Closed;
    if (this.corked) {
      this.corked = false;
      this.transport.uncork();
    }
    this.transport.end();
    const transport = this.transport;
    setTimeout(() => transport.destroy(), CLOSE_GRACE_MS).unref();
    this.broker.clientClosed(this, cause, reasonCode, wasConnected);
  }

  writePingresp(): void {
    this.send(PINGRESP);
  }
}

/** The subscriber gets the delivery span's context in place of any the publisher sent (W3C trace context). */
function withTraceContext(props: UserProperty[] | undefined, trace: DeliveryTrace): UserProperty[] {
  const out: UserProperty[] = props ? props.filter(([k]) => k !== 'traceparent' && k !== 'tracestate') : [];
  out.push(['traceparent', trace.traceparent]);
  if (trace.tracestate) out.push(['tracestate', trace.tracestate]);
  return out;
}
