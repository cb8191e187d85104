export { createTcpServer, SocketTransport } from './tcp';
export { createWebSocketServer, type WebSocketListenerOptions } from './websocket';
export { startListeners, type RunningListeners } from './start';
