import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { configSchema, type FluxConfig, type FluxConfigInput } from './schema';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export const ENV_PREFIX = 'FLUXMQ_';

type Plain = { [key: string]: unknown };

/** Validates input against the schema, filling defaults; throws ConfigError listing every problem. */
export function parseConfig(input: unknown): FluxConfig {
  const result = configSchema.safeParse(input ?? {});
  if (!result.success) throw new ConfigError(`invalid configuration:\n${z.prettifyError(result.error)}`);
  return result.data;
}

export function defaultConfig(): FluxConfig {
  return parseConfig({});
}

/**
 * Every leaf of the configuration, as its FLUXMQ_* variable name: `mqtt.maxPacketSize` is
 * FLUXMQ_MQTT_MAX_PACKET_SIZE. Derived from the defaults, so a new schema key needs no extra code.
 */
export function envVariables(): { name: string; path: string[]; example: unknown }[] {
  const out: { name: string; path: string[]; example: unknown }[] = [];
  const fileOnly = listsOfObjects();
  const walk = (node: Plain, path: string[]): void => {
    for (const [key, value] of Object.entries(node)) {
      const next = [...path, key];
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) walk(value as Plain, next);
      else if (!fileOnly.has(next.join('.'))) {
        out.push({ name: ENV_PREFIX + next.map(toScreamingSnake).join('_'), path: next, example: value });
      }
    }
  };
  walk(defaultConfig() as unknown as Plain, []);
  return out;
}

interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
}

/** Paths of lists of objects (users, ACL rules): a comma-separated variable cannot hold them, a file can. */
function listsOfObjects(): Set<string> {
  const paths = new Set<string>();
  const walk = (node: SchemaNode, path: string[]): void => {
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      const next = [...path, key];
      if (child.type === 'array' && child.items?.type === 'object') paths.add(next.join('.'));
      else walk(child, next);
    }
  };
  walk(z.toJSONSchema(configSchema, { io: 'input' }) as SchemaNode, []);
  return paths;
}

export function toScreamingSnake(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

function fromEnv(env: NodeJS.ProcessEnv): Plain {
  const out: Plain = {};
  for (const { name, path, example } of envVariables()) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    let value: unknown = raw;
    if (typeof example === 'number') value = Number(raw);
    else if (Array.isArray(example))
      value = raw
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean);
    else if (typeof example === 'boolean') {
      if (raw !== 'true' && raw !== 'false')
        throw new ConfigError(`${name} must be true or false, got "${raw}"`);
      value = raw === 'true';
    }
    if (typeof example === 'number' && !Number.isFinite(value)) {
      throw new ConfigError(`${name} must be a number, got "${raw}"`);
    }
    setPath(out, path, value);
  }
  return out;
}

function setPath(target: Plain, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) node = (node[key] ??= {}) as Plain;
  node[path[path.length - 1]] = value;
}

export function mergeConfig(base: Plain, over: Plain): Plain {
  const out: Plain = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const prev = out[key];
    out[key] = isPlain(prev) && isPlain(value) ? mergeConfig(prev, value) : value;
  }
  return out;
}

function isPlain(v: unknown): v is Plain {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function readFile(file: string): Plain {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text); // YAML is a superset of JSON, so one parser reads both
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid YAML/JSON: ${(err as Error).message}`);
  }
  if (parsed == null) return {};
  if (!isPlain(parsed)) throw new ConfigError(`config file ${file} must hold an object at the top level`);
  return parsed;
}

export interface LoadConfigOptions {
  /** Path of a YAML or JSON file; defaults to $FLUXMQ_CONFIG when set. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Applied last, above file and environment (used by tests and embedding code). */
  overrides?: FluxConfigInput;
}

/** Defaults, then the file, then FLUXMQ_* variables, then overrides: later sources win. */
export function loadConfig(options: LoadConfigOptions = {}): FluxConfig {
  const env = options.env ?? process.env;
  const file = options.file ?? env['FLUXMQ_CONFIG'];
  let raw: Plain = file ? readFile(file) : {};
  raw = mergeConfig(raw, fromEnv(env));
  if (options.overrides) raw = mergeConfig(raw, options.overrides as Plain);
  return parseConfig(raw);
}
