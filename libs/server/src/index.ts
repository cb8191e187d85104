export { startBrokerServer, VERSION, type BrokerServer, type BrokerServerOptions } from './server';
export { createJsonLogger, type LogLevel } from './logger';
