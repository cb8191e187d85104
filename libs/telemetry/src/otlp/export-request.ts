import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { ExportableSpan, OtlpScope } from './json';
import { jsonString } from './json';
import { asciiBytes, type JsonWriter } from './json-writer';

const COMMA = asciiBytes(',');

/**
 * How long encoding may hold the event loop before it lets the broker's I/O run: a batch of 2048 spans
 * takes a few milliseconds, more where the encoder is seldom run and not yet compiled.
 */
const SLICE_MS = 1;

/**
 * Writes one OTLP/HTTP JSON export body: every span under the one resource (its attributes already
 * encoded), grouped by instrumentation scope, in slices of at most about a millisecond. The writer must
 * not be used by anyone else until it resolves.
 */
export async function writeExportRequest(
  out: JsonWriter,
  resourceAttributes: string,
  spans: readonly ExportableSpan[],
): Promise<Buffer> {
  let sliceStart = performance.now();
  out.reset();
  out.text(`{"resourceSpans":[{"resource":{"attributes":[${resourceAttributes}]},"scopeSpans":[`);
  let firstScope = true;
  for (const [scope, members] of byScope(spans)) {
    const version = scope.version === undefined ? '' : `,"version":${jsonString(scope.version)}`;
    out.text(`${firstScope ? '' : ','}{"scope":{"name":${jsonString(scope.name)}${version}},"spans":[`);
    firstScope = false;
    for (let i = 0; i < members.length; i++) {
      if (i > 0) out.bytes(COMMA);
      members[i].writeOtlpJson(out);
      if ((i & 63) === 63 && performance.now() - sliceStart > SLICE_MS) {
        await nextTurn();
        sliceStart = performance.now();
      }
    }
    out.text(']}');
  }
  out.text(']}]}');
  return out.body;
}

function byScope(spans: readonly ExportableSpan[]): Map<OtlpScope, ExportableSpan[]> {
  const groups = new Map<OtlpScope, ExportableSpan[]>();
  const byName = new Map<string, ExportableSpan[]>();
  let lastScope: OtlpScope | undefined;
  let group: ExportableSpan[] = [];
  for (const span of spans) {
    if (span.scope !== lastScope) {
      lastScope = span.scope;
      // Compared by name and version: the SDK's tracers and the message spans each have their own object
      // for the same scope.
      const key = `${lastScope.name}\n${lastScope.version ?? ''}`;
      const known = byName.get(key);
      if (known) group = known;
      else {
        group = [];
        byName.set(key, group);
        groups.set(lastScope, group);
      }
    }
    group.push(span);
  }
  return groups;
}
