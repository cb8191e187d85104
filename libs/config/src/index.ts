import * as load from './load';
import * as reference from './reference';
import * as schema from './schema';

// Values as `export import` aliases, not `export ... from`: see docs/architecture.md, "Decisions".
export type * from './load';
export type * from './schema';
export import ConfigError = load.ConfigError;
export import ENV_PREFIX = load.ENV_PREFIX;
export import parseConfig = load.parseConfig;
export import defaultConfig = load.defaultConfig;
export import envVariables = load.envVariables;
export import toScreamingSnake = load.toScreamingSnake;
export import mergeConfig = load.mergeConfig;
export import loadConfig = load.loadConfig;
export import configJsonSchema = reference.configJsonSchema;
export import configReference = reference.configReference;
export import listenersSchema = schema.listenersSchema;
export import mqttSchema = schema.mqttSchema;
export import persistenceSchema = schema.persistenceSchema;
export import samplingSchema = schema.samplingSchema;
export import telemetrySchema = schema.telemetrySchema;
export import authSchema = schema.authSchema;
export import configSchema = schema.configSchema;
