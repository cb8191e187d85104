import * as certificates from './certificates';
import * as limits from './limits';
import * as start from './start';
import * as tcp from './tcp';
import * as tls from './tls';
import * as websocket from './websocket';

// Values as `export import` aliases, not `export { x } from`: see docs/architecture.md, "Decisions".
export type { Listener, TlsListenerOptions } from './tls';
export type { WebSocketListenerOptions } from './websocket';
export type {
  CertificateReload,
  CertificateWatcherOptions,
  ClientCertificateMode,
  TlsSettings,
} from './certificates';
export type { RunningListeners, StartListenersOptions } from './start';
export import createTcpServer = tcp.createTcpServer;
export import SocketTransport = tcp.SocketTransport;
export import createTlsServer = tls.createTlsServer;
export import createWebSocketServer = websocket.createWebSocketServer;
export import CertificateWatcher = certificates.CertificateWatcher;
export import parseSubjectAltNames = certificates.parseSubjectAltNames;
export import ConnectionGate = limits.ConnectionGate;
export import startListeners = start.startListeners;
