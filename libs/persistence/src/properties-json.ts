import type { Properties } from '@fluxmq/codec';

// MQTT 5 properties as JSON: Correlation Data and Authentication Data are binary, so Buffers become
// {"$b64": "..."} and back.

export function propertiesToJson(props: Properties | undefined): string | null {
  if (!props) return null;
  return JSON.stringify(props, (_key, value: unknown) => {
    if (isSerializedBuffer(value)) return { $b64: Buffer.from(value.data).toString('base64') };
    return value;
  });
}

export function propertiesFromJson(json: string | null): Properties | undefined {
  if (json === null) return undefined;
  return JSON.parse(json, (_key, value: unknown) => {
    if (value !== null && typeof value === 'object' && '$b64' in value) {
      return Buffer.from((value as { $b64: string }).$b64, 'base64');
    }
    return value;
  }) as Properties;
}

/** JSON.stringify calls Buffer#toJSON before the replacer sees the value. */
function isSerializedBuffer(value: unknown): value is { type: 'Buffer'; data: number[] } {
  return (
    value !== null &&
    typeof value === 'object' &&
    (value as { type?: unknown }).type === 'Buffer' &&
    Array.isArray((value as { data?: unknown }).data)
  );
}
