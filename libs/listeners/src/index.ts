export { createTcpServer, SocketTransport } from './tcp';
export { createTlsServer, type Listener, type TlsListenerOptions } from './tls';
export { createWebSocketServer, type WebSocketListenerOptions } from './websocket';
export {
  CertificateWatcher,
  parseSubjectAltNames,
  type CertificateReload,
  type CertificateWatcherOptions,
  type ClientCertificateMode,
  type TlsSettings,
} from './certificates';
export { ConnectionGate } from './limits';
export { startListeners, type RunningListeners, type StartListenersOptions } from './start';
