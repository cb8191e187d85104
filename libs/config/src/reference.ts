import { z } from 'zod';
import { ENV_PREFIX, toScreamingSnake } from './load';
import { configSchema } from './schema';

interface JsonSchemaNode {
  type?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  anyOf?: { const?: unknown }[];
  minimum?: number;
  maximum?: number;
  properties?: Record<string, JsonSchemaNode>;
  required?: string[];
  items?: JsonSchemaNode;
}

/** The schema as JSON Schema: what the admin API serves and the console's form is built from. */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configSchema, { io: 'input' }) as Record<string, unknown>;
}

/** A Markdown table of every setting, generated from the schema so the docs cannot drift from the code. */
export function configReference(): string {
  const rows: string[] = [
    '| Key | Environment variable | Default | Allowed | Description |',
    '| --- | --- | --- | --- | --- |',
  ];
  const row = (path: string[], env: string, fallback: string, node: JsonSchemaNode): void => {
    const value = node.default === undefined ? fallback : `\`${JSON.stringify(node.default)}\``;
    rows.push(`| \`${path.join('.')}\` | ${env} | ${value} | ${allowed(node)} | ${node.description ?? ''} |`);
  };
  const walk = (node: JsonSchemaNode, path: string[]): void => {
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      const next = [...path, key];
      if (child.type === 'object') {
        walk(child, next);
      } else if (child.type === 'array' && child.items?.type === 'object') {
        // Lists of objects come from a file only; their fields follow as `list[].field`.
        row(next, 'file only', '', child);
        const item = child.items;
        for (const [field, spec] of Object.entries(item.properties ?? {})) {
          const required = item.required?.includes(field) ?? false;
          row([...next.slice(0, -1), `${key}[]`, field], '', required ? 'required' : 'optional', spec);
        }
      } else {
        row(next, `\`${ENV_PREFIX + next.map(toScreamingSnake).join('_')}\``, '', child);
      }
    }
  };
  walk(configJsonSchema() as JsonSchemaNode, []);
  return rows.join('\n') + '\n';
}

function allowed(node: JsonSchemaNode): string {
  if (node.enum) return node.enum.map((v) => `\`${String(v)}\``).join(', ');
  if (node.type === 'array' && node.items?.enum) return `list of ${allowed(node.items)}`;
  if (node.anyOf) return node.anyOf.map((v) => `\`${String(v.const)}\``).join(', ');
  if (node.type === 'boolean') return '`true`, `false`';
  if (node.minimum !== undefined || node.maximum !== undefined) {
    return `${node.minimum ?? ''}..${node.maximum ?? ''}`;
  }
  return node.type ?? '';
}
