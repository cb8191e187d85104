import { createServer, type Server, type Socket } from 'node:net';
import type { Broker, ClientCertificate, Transport, TransportSink } from '@fluxmq/engine';
import { HeldWrites } from './held-writes';
import { ConnectionGate } from './limits';

/** A TCP (or TLS) socket as an engine transport. */
export class SocketTransport implements Transport {
  readonly remoteAddress: string;
  private readonly held = new HeldWrites();
  private readonly send = (data: Buffer): void => void this.socket.write(data);

  constructor(
    private readonly socket: Socket,
    readonly listener: string,
    /** The verified client certificate of a TLS socket. */
    readonly certificate?: ClientCertificate,
  ) {
    this.remoteAddress = socket.remoteAddress ?? '';
  }

  get bufferedBytes(): number {
    return this.socket.writableLength + this.held.bytes;
  }

  write(data: Buffer): void {
    if (!this.held.add(data)) this.socket.write(data);
  }

  cork(): void {
    this.held.hold();
  }

  uncork(): void {
    this.held.release(this.socket, this.send);
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  attach(sink: TransportSink): void {
    let failure: Error | undefined;
    this.socket.on('data', (chunk: Buffer) => sink.onData(chunk));
    this.socket.on('drain', () => sink.onDrain());
    this.socket.on('error', (err) => (failure = err));
    this.socket.on('close', () => sink.onClose(failure));
  }
}

export function createTcpServer(
  broker: Broker,
  name = 'tcp',
  gate: ConnectionGate = new ConnectionGate(broker),
): Server {
  // Nagle would hold back small PUBLISHes and acks; the engine batches writes itself.
  return createServer({ noDelay: true }, (socket) => gate.admit(new SocketTransport(socket, name)));
}
