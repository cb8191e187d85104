import type { ClientCertificate } from './hooks';

/**
 * A byte stream to one client, whatever carries it (TCP, TLS, WebSocket). Listeners adapt their sockets to
 * this so the engine never sees `net` or `ws`.
 */
export interface Transport {
  readonly remoteAddress: string;
  /** Listener name, for logs and metrics: 'tcp', 'ws', ... */
  readonly listener: string;
  /** Bytes accepted by `write` but not yet handed to the kernel: the engine's back-pressure signal. */
  readonly bufferedBytes: number;
  /** The client's verified TLS certificate, on TLS listeners that asked for one and got it. */
  readonly certificate?: ClientCertificate;
  write(data: Buffer): void;
  /** Hold writes until `uncork`, so many small packets leave in one system call. */
  cork(): void;
  uncork(): void;
  pause(): void;
  resume(): void;
  /** Flush what is buffered, then close. */
  end(): void;
  /** Close now, dropping what is buffered. */
  destroy(): void;
  /** Called once by the engine; the transport reports events to the sink from then on. */
  attach(sink: TransportSink): void;
}

export interface TransportSink {
  onData(chunk: Buffer): void;
  /** The buffered bytes were written out. */
  onDrain(): void;
  onClose(error?: Error): void;
}
