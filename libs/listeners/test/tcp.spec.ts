import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SocketTransport } from '../src/tcp';

describe('TCP transport', () => {
  let server: Server;
  const sockets: Socket[] = [];

  /** A connected pair: the broker's side (wrapped) and the client's, with everything the client reads. */
  async function pair(): Promise<{ transport: SocketTransport; socket: Socket; received: () => Buffer }> {
    server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    const client = connect(address.port, '127.0.0.1');
    const [socket] = (await once(server, 'connection')) as [Socket];
    sockets.push(client, socket);
    const chunks: Buffer[] = [];
    client.on('data', (chunk: Buffer) => chunks.push(chunk));
    return { transport: new SocketTransport(socket, 'tcp'), socket, received: () => Buffer.concat(chunks) };
  }

  async function until(check: () => boolean): Promise<void> {
    for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(check()).toBe(true);
  }

  afterEach(async () => {
    vi.restoreAllMocks();
    for (const socket of sockets.splice(0)) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('hands the packets of a batch to the socket in one write, in order, and counts them as buffered', async () => {
    const { transport, socket, received } = await pair();
    const write = vi.spyOn(socket, 'write');
    transport.cork();
    for (let i = 0; i < 100; i++) transport.write(Buffer.from([0x30, 0x01, i]));
    // Held bytes count towards back-pressure: a batch may not outgrow the client's outbound limit unseen.
    expect(transport.bufferedBytes).toBeGreaterThanOrEqual(300);
    expect(write).not.toHaveBeenCalled();
    transport.uncork();
    expect(write).toHaveBeenCalledTimes(1);
    const expected = Buffer.concat(Array.from({ length: 100 }, (_, i) => Buffer.from([0x30, 0x01, i])));
    await until(() => received().length === expected.length);
    expect(received().equals(expected)).toBe(true);
  });

  it('sends large batches packet by packet rather than copy them, and writes at once when not corked', async () => {
    const { transport, socket, received } = await pair();
    const write = vi.spyOn(socket, 'write');
    const big = [Buffer.alloc(40_000, 1), Buffer.alloc(40_000, 2)];
    transport.cork();
    for (const data of big) transport.write(data);
    transport.uncork();
    expect(write.mock.calls.map(([data]) => data)).toEqual(big); // the same buffers, not a joined copy
    transport.write(Buffer.from([3]));
    expect(write).toHaveBeenCalledTimes(3);
    await until(() => received().length === 80_001);
    expect(received().equals(Buffer.concat([...big, Buffer.from([3])]))).toBe(true);
    transport.uncork(); // nothing held: a second uncork (client close, then the batch's end) writes nothing
    expect(write).toHaveBeenCalledTimes(3);
  });
});
