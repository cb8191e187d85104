import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Broker, Transport, TransportSink } from '@fluxmq/engine';
import { WebSocketServer, type WebSocket } from 'ws';

/** Subprotocols MQTT over WebSocket uses (spec 6.0): 'mqtt', and 'mqttv3.1' for old 3.1 clients. */
const SUBPROTOCOLS = ['mqtt', 'mqttv3.1'];

/** A WebSocket as an engine transport: MQTT bytes travel in binary frames, a packet may span frames. */
class WebSocketTransport implements Transport {
  readonly remoteAddress: string;
  private readonly socket: Socket;

  constructor(
    private readonly ws: WebSocket,
    req: IncomingMessage,
    readonly listener: string,
  ) {
    // The HTTP request's socket is the one ws writes frames to: corking it batches frames into one write.
    this.socket = req.socket;
    this.remoteAddress = req.socket.remoteAddress ?? '';
  }

  get bufferedBytes(): number {
    return this.ws.bufferedAmount;
  }

  write(data: Buffer): void {
    this.ws.send(data, { binary: true });
  }

  cork(): void {
    this.socket.cork();
  }

  uncork(): void {
    this.socket.uncork();
  }

  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    this.ws.resume();
  }

  end(): void {
    this.ws.close(1000);
  }

  destroy(): void {
    this.ws.terminate();
  }

  attach(sink: TransportSink): void {
    let failure: Error | undefined;
    this.ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        failure = new Error('text frame on an MQTT WebSocket');
        this.ws.close(1003, 'MQTT needs binary frames');
        return;
      }
      sink.onData(data);
    });
    this.socket.on('drain', () => sink.onDrain());
    this.ws.on('error', (err) => (failure = err));
    this.ws.on('close', () => sink.onClose(failure));
  }
}

export interface WebSocketListenerOptions {
  path: string;
  maxPacketSize: number;
  name?: string;
}

export function createWebSocketServer(broker: Broker, options: WebSocketListenerOptions): Server {
  const http = createServer((_req, res) => {
    res
      .writeHead(426, { 'content-type': 'text/plain' })
      .end(`MQTT over WebSocket lives at ${options.path}\n`);
  });
  const wss = new WebSocketServer({
    server: http,
    path: options.path,
    // A packet may span frames, but no frame needs to be larger than the largest packet.
    maxPayload: options.maxPacketSize + 8,
    perMessageDeflate: false,
    handleProtocols: (offered) => SUBPROTOCOLS.find((p) => offered.has(p)) ?? false,
  });
  const name = options.name ?? 'ws';
  wss.on('connection', (ws, req) => broker.handleConnection(new WebSocketTransport(ws, req, name)));
  http.on('close', () => wss.close());
  return http;
}
