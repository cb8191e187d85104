import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { Broker, ClientCertificate, Transport, TransportSink } from '@fluxmq/engine';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  CertificateWatcher,
  clientCertificate,
  type CertificateWatcherOptions,
  type TlsSettings,
} from './certificates';
import { HeldWrites } from './held-writes';
import { ConnectionGate, ThrottledLog } from './limits';
import { guardTlsServer, secureServerOptions, type Listener } from './tls';

/** Subprotocols MQTT over WebSocket uses (spec 6.0): 'mqtt', and 'mqttv3.1' for old 3.1 clients. */
const SUBPROTOCOLS = ['mqtt', 'mqttv3.1'];

/** A WebSocket as an engine transport: MQTT bytes travel in binary frames, a packet may span frames. */
class WebSocketTransport implements Transport {
  readonly remoteAddress: string;
  readonly certificate: ClientCertificate | undefined;
  private readonly socket: Socket;
  private readonly held = new HeldWrites();
  private readonly send = (data: Buffer): void => this.ws.send(data, { binary: true });

  constructor(
    private readonly ws: WebSocket,
    req: IncomingMessage,
    readonly listener: string,
  ) {
    // The HTTP request's socket is the one ws writes frames to: corking it sends a large batch's frames in
    // one write.
    this.socket = req.socket;
    this.remoteAddress = req.socket.remoteAddress ?? '';
    this.certificate = req.socket instanceof TLSSocket ? clientCertificate(req.socket) : undefined;
  }

  get bufferedBytes(): number {
    return this.ws.bufferedAmount + this.held.bytes;
  }

  write(data: Buffer): void {
    if (!this.held.add(data)) this.ws.send(data, { binary: true });
  }

  cork(): void {
    this.held.hold();
  }

  /** A batch's packets leave in one binary frame: a frame may carry several MQTT packets [MQTT-6.0.0-2]. */
  uncork(): void {
    this.held.release(this.socket, this.send);
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
  /** Listener name; default `ws`, or `wss` with `tls`. */
  name?: string;
  /** Origin headers allowed to upgrade (others get 403); requests without one always pass; empty = any. */
  allowedOrigins?: readonly string[];
  /** Serve over HTTPS (wss) with these files. */
  tls?: TlsSettings;
  watch?: CertificateWatcherOptions;
  gate?: ConnectionGate;
}

/** Origins compare case-insensitively and without a trailing slash, as browsers may differ from config. */
function normalizeOrigin(origin: string): string {
  return origin.trim().toLowerCase().replace(/\/+$/, '');
}

/** The HTTPS server under a wss listener, refusing client certificates as its TLS settings say. */
function createHttpsServerFor(
  broker: Broker,
  name: string,
  tls: TlsSettings,
  onRequest: (req: IncomingMessage, res: ServerResponse) => void,
  watch: CertificateWatcherOptions | undefined,
): { server: HttpsServer; certificates: CertificateWatcher } {
  const certificates = new CertificateWatcher(
    name,
    tls,
    (context) => server.setSecureContext(context),
    broker.log,
    watch,
  );
  const server = createHttpsServer(
    secureServerOptions(broker, certificates, tls.clientCertificates),
    onRequest,
  );
  const admit = guardTlsServer(server, broker, name, tls.clientCertificates);
  // Runs right after the HTTP layer was handed the socket, before it has read anything from it.
  server.on('secureConnection', (socket: TLSSocket) => {
    if (!admit(socket)) socket.destroy();
  });
  return { server, certificates };
}

/** MQTT over WebSocket, on an HTTP server, or an HTTPS one (wss) when `tls` is given. */
export function createWebSocketServer(broker: Broker, options: WebSocketListenerOptions): Listener {
  const name = options.name ?? (options.tls ? 'wss' : 'ws');
  const gate = options.gate ?? new ConnectionGate(broker);
  const onRequest = (_req: IncomingMessage, res: ServerResponse): void => {
    res
      .writeHead(426, { 'content-type': 'text/plain' })
      .end(`MQTT over WebSocket lives at ${options.path}\n`);
  };
  const { server: http, certificates } = options.tls
    ? createHttpsServerFor(broker, name, options.tls, onRequest, options.watch)
    : { server: createHttpServer(onRequest), certificates: undefined };
  const allowed = new Set((options.allowedOrigins ?? []).map(normalizeOrigin));
  const originLog = new ThrottledLog(broker.log, 'warn');
  const wss = new WebSocketServer({
    server: http,
    path: options.path,
    // A packet may span frames, but no frame needs to be larger than the largest packet.
    maxPayload: options.maxPacketSize + 8,
    perMessageDeflate: false,
    handleProtocols: (offered) => SUBPROTOCOLS.find((p) => offered.has(p)) ?? false,
    // Origin guards browsers against other sites' pages opening connections with the user's network
    // position; clients that are not browsers send none and are not what the list is about.
    verifyClient: (info, done) => {
      if (allowed.size === 0 || !info.origin || allowed.has(normalizeOrigin(info.origin))) return done(true);
      originLog.write('websocket origin refused', {
        listener: name,
        origin: info.origin,
        remoteAddress: info.req.socket.remoteAddress,
      });
      done(false, 403, 'Origin not allowed');
    },
  });
  wss.on('connection', (ws, req) => gate.admit(new WebSocketTransport(ws, req, name)));
  http.on('close', () => {
    wss.close();
    certificates?.close();
  });
  return { server: http, certificates };
}
