import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';

/** CONNECT for MQTT 3.1.1: clean session, keep alive 0. */
export function connectPacket(clientId: string): Buffer {
  const id = Buffer.from(clientId);
  const body = Buffer.concat([
    Buffer.from([
      0x00,
      0x04,
      0x4d,
      0x51,
      0x54,
      0x54,
      0x04,
      0x02,
      0x00,
      0x00,
      id.length >> 8,
      id.length & 0xff,
    ]),
    id,
  ]);
  return Buffer.concat([Buffer.from([0x10, body.length]), body]);
}

export const CONNACK_ACCEPTED = [0x20, 0x02, 0x00, 0x00];
export const PINGREQ = Buffer.from([0xc0, 0x00]);
export const PINGRESP = [0xd0, 0x00];

/** The next chunk the socket receives; rejects when it closes first (a refused connection). */
export function nextData(socket: Socket, timeoutMs = 3000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error('no data in time')), timeoutMs);
    const onData = (data: Buffer) => finish(undefined, data);
    const onClose = () => finish(new Error('closed'));
    const onError = (err: Error) => finish(err);
    function finish(err: Error | undefined, data?: Buffer): void {
      clearTimeout(timer);
      socket.off('data', onData).off('close', onClose).off('error', onError);
      if (err) reject(err);
      else resolve(data!);
    }
    socket.on('data', onData).once('close', onClose).once('error', onError);
  });
}

/** Resolves when the socket is closed (by the broker); rejects if it stays open. */
export function closed(socket: Socket, timeoutMs = 3000): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('socket still open')), timeoutMs);
    socket.on('error', () => undefined);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** A TCP socket that sent CONNECT; `connack` settles with the broker's answer. */
export function mqttOverTcp(port: number, clientId: string): { socket: Socket; connack: Promise<Buffer> } {
  const socket = netConnect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  socket.write(connectPacket(clientId));
  const connack = nextData(socket);
  connack.catch(() => undefined); // a test that only waits for the close need not await it
  return { socket, connack };
}

/** A TLS connection that sent CONNECT once the handshake was done; resolves with the socket and CONNACK. */
export function mqttOverTls(
  port: number,
  clientId: string,
  options: ConnectionOptions,
): Promise<{ socket: TLSSocket; connack: Buffer }> {
  const socket = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ...options });
  socket.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      socket.write(connectPacket(clientId));
      nextData(socket).then((connack) => resolve({ socket, connack }), reject);
    });
  });
}
