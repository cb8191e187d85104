import type { ProtocolVersion } from './packets';
import { ReasonCode } from './reason-codes';

/**
 * Thrown by `PacketDecoder.next()` when the bytes are not a packet the spec allows. The broker turns it
 * into a CONNACK or DISCONNECT carrying `reasonCode` (5.0) or simply closes the connection (3.1.1).
 */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';

  constructor(
    /** 0x81 malformed packet, 0x82 protocol error, 0x84 unsupported protocol version, 0x95 packet too large. */
    readonly reasonCode: number,
    message: string,
    /**
     * The protocol version to answer in. For a CONNECT with an unsupported protocol it is 5 when the
     * client asked for level 5 or newer, else 4 (a 3.1.1 CONNACK with return code 1).
     */
    readonly protocolVersion: ProtocolVersion,
  ) {
    super(message);
  }
}

export const MALFORMED = ReasonCode.MalformedPacket;
export const PROTOCOL_ERROR = ReasonCode.ProtocolError;
export const UNSUPPORTED_VERSION = ReasonCode.UnsupportedProtocolVersion;
export const TOO_LARGE = ReasonCode.PacketTooLarge;
