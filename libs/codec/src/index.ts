export * from './packets';
export * from './reason-codes';
export { DecodeError, PacketDecoder, type DecoderOptions } from './decoder';
export { encode, withPacketId, withRetain } from './encoder';
export { PropertyId } from './property-ids';
