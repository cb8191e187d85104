import * as logger from './logger';
import * as server from './server';

// Values as `export import` aliases, not `export { x } from`: see docs/architecture.md, "Decisions".
export type { BrokerServer, BrokerServerOptions, MetricsRegistries } from './server';
export type { LogLevel } from './logger';
export import startBrokerServer = server.startBrokerServer;
export import VERSION = server.VERSION;
export import createJsonLogger = logger.createJsonLogger;
