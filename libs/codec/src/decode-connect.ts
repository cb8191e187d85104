import { DecodeError, MALFORMED, UNSUPPORTED_VERSION } from './errors';
import { PacketType, type ConnectPacket, type QoS, type Will } from './packets';
import { readProperties } from './properties';
import { WILL_CONTEXT } from './property-ids';
import type { Reader } from './reader';

const USERNAME = 0x80;
const PASSWORD = 0x40;
const WILL_RETAIN = 0x20;
const WILL_FLAG = 0x04;
const CLEAN_START = 0x02;
const RESERVED = 0x01;

export function decodeConnect(r: Reader): ConnectPacket {
  const protocolName = r.utf8('CONNECT protocol name');
  const level = r.u8('CONNECT protocol level');
  const supported =
    protocolName === 'MQTT' ? level === 4 || level === 5 : protocolName === 'MQIsdp' && level === 3;
  if (!supported) {
    throw new DecodeError(
      UNSUPPORTED_VERSION,
      `CONNECT asks for unsupported protocol "${protocolName}" level ${level}`,
      // A newer client reads a 5.0 CONNACK best; bit 7 is the bridge flag, not part of the level.
      (level & 0x7f) >= 5 ? 5 : 4,
    );
  }
  const version = level as 3 | 4 | 5;
  // From here on errors are answered in the client's own version.
  r.version = version;

  const flags = r.u8('CONNECT flags');
  if (flags & RESERVED) throw r.fail(MALFORMED, 'CONNECT reserved flag (bit 0) is set');
  const hasWill = (flags & WILL_FLAG) !== 0;
  const willQos = (flags >> 3) & 3;
  const willRetain = (flags & WILL_RETAIN) !== 0;
  if (!hasWill && willQos !== 0) throw r.fail(MALFORMED, 'CONNECT will QoS is set but the will flag is not');
  if (!hasWill && willRetain) throw r.fail(MALFORMED, 'CONNECT will retain is set but the will flag is not');
  if (willQos === 3) throw r.fail(MALFORMED, 'CONNECT will QoS is 3');
  const hasUsername = (flags & USERNAME) !== 0;
  const hasPassword = (flags & PASSWORD) !== 0;
  if (hasPassword && !hasUsername && version !== 5) {
    throw r.fail(MALFORMED, 'CONNECT password flag is set without the username flag (allowed only in 5.0)');
  }

  const keepAlive = r.u16('CONNECT keep alive');
  const properties = version === 5 ? readProperties(r, PacketType.CONNECT) : undefined;
  const clientId = r.utf8('CONNECT client identifier');
  let will: Will | undefined;
  if (hasWill) {
    const willProperties = version === 5 ? readProperties(r, WILL_CONTEXT) : undefined;
    const topic = r.utf8('CONNECT will topic');
    const payload = r.binary('CONNECT will payload');
    will = { topic, payload, qos: willQos as QoS, retain: willRetain, properties: willProperties };
  }
  const username = hasUsername ? r.utf8('CONNECT username') : undefined;
  const password = hasPassword ? r.binary('CONNECT password') : undefined;
  return {
    type: PacketType.CONNECT,
    protocolName,
    protocolVersion: version,
    cleanStart: (flags & CLEAN_START) !== 0,
    keepAlive,
    clientId,
    username,
    password,
    will,
    properties,
  };
}
