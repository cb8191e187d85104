import type { Server } from 'node:net';
import { createServer, type TlsOptions, type Server as TlsServer, type TLSSocket } from 'node:tls';
import type { Broker } from '@fluxmq/engine';
import {
  admitTlsSocket,
  CertificateWatcher,
  clientCertificate,
  clientCertificateOptions,
  type CertificateWatcherOptions,
  type ClientCertificateMode,
  type TlsSettings,
} from './certificates';
import { ConnectionGate, ThrottledLog } from './limits';
import { SocketTransport } from './tcp';

/** A listener's server, with its certificate watcher when it speaks TLS. */
export interface Listener {
  readonly server: Server;
  readonly certificates: CertificateWatcher | undefined;
}

export interface TlsListenerOptions extends TlsSettings {
  /** Listener name for logs, metrics and `Transport.listener`; default `tls`. */
  name?: string;
  gate?: ConnectionGate;
  watch?: CertificateWatcherOptions;
}

/** Options of a TLS server (plain or HTTPS) serving the watcher's certificate. */
export function secureServerOptions(
  broker: Broker,
  certificates: CertificateWatcher,
  mode: ClientCertificateMode,
): TlsOptions {
  return {
    ...certificates.initial,
    ...clientCertificateOptions(mode),
    // A socket that never finishes its handshake is held no longer than one that never sends CONNECT.
    handshakeTimeout: broker.config.connectTimeoutMs,
  };
}

/**
 * Logs a TLS server's failed handshakes and returns the check for each handshaken socket: false means
 * refused (logged; the caller destroys the socket). Both logs are throttled, as a scanner or a client
 * without the right certificate retrying in a loop can cause them at will.
 */
export function guardTlsServer(
  server: TlsServer,
  broker: Broker,
  name: string,
  mode: ClientCertificateMode,
): (socket: TLSSocket) => boolean {
  const handshakeLog = new ThrottledLog(broker.log, 'info');
  const refusalLog = new ThrottledLog(broker.log, 'warn');
  server.on('tlsClientError', (err, socket) =>
    handshakeLog.write('tls handshake failed', {
      listener: name,
      remoteAddress: socket.remoteAddress,
      error: err.message.trim(),
    }),
  );
  return (socket) => {
    if (admitTlsSocket(socket, mode)) return true;
    refusalLog.write('client certificate refused', {
      listener: name,
      remoteAddress: socket.remoteAddress,
      reason: socket.authorizationError,
    });
    return false;
  };
}

/** MQTT over TLS: each handshaken socket becomes a `SocketTransport` carrying the client's certificate. */
export function createTlsServer(broker: Broker, options: TlsListenerOptions): Listener {
  const name = options.name ?? 'tls';
  const gate = options.gate ?? new ConnectionGate(broker);
  const certificates = new CertificateWatcher(
    name,
    options,
    (context) => server.setSecureContext(context),
    broker.log,
    options.watch,
  );
  const server = createServer(
    // Nagle would hold back small PUBLISHes and acks; the engine batches writes itself.
    { ...secureServerOptions(broker, certificates, options.clientCertificates), noDelay: true },
    (socket: TLSSocket) => {
      if (!admit(socket)) socket.destroy();
      else gate.admit(new SocketTransport(socket, name, clientCertificate(socket)));
    },
  );
  const admit = guardTlsServer(server, broker, name, options.clientCertificates);
  server.on('close', () => certificates.close());
  return { server, certificates };
}
