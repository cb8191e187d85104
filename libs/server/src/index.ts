export {
  startBrokerServer,
  VERSION,
  type BrokerServer,
  type BrokerServerOptions,
  type MetricsRegistries,
} from './server';
export { createJsonLogger, type LogLevel } from './logger';
