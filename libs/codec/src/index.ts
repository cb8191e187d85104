import * as encoder from './encoder';
import * as errors from './errors';
import * as decoder from './decoder';
import * as packets from './packets';
import * as propertyIds from './property-ids';
import * as reasonCodes from './reason-codes';
import * as wire from './wire';

// Every lib re-exports its values as `export import` aliases (plain properties once compiled), never as
// `export { x } from`: see docs/architecture.md, "Decisions".
export type * from './packets';
export type { DecoderOptions } from './decoder';
export import DecodeError = errors.DecodeError;
export import PacketDecoder = decoder.PacketDecoder;
export import encode = encoder.encode;
export import encodePublish = encoder.encodePublish;
export import withPacketId = encoder.withPacketId;
export import withRetain = encoder.withRetain;
export import utf8Length = wire.utf8Length;
export import PacketType = packets.PacketType;
export import PACKET_TYPE_NAMES = packets.PACKET_TYPE_NAMES;
export import PropertyId = propertyIds.PropertyId;
export import ReasonCode = reasonCodes.ReasonCode;
export import ConnectReturnCode = reasonCodes.ConnectReturnCode;
