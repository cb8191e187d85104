import type { Attributes } from '@opentelemetry/api';
import {
  encoded,
  RequestField,
  ResourceField,
  ResourceSpansField,
  ScopeField,
  ScopeSpansField,
  writeAttributes,
} from './otlp-proto';
import { ProtoWriter, WireType } from './proto-writer';

/** A finished span that writes its own fields (of OTLP's `Span` message), as it ends. */
export interface EncodableSpan {
  encodeOtlp(out: ProtoWriter): void;
}

export interface OtlpScope {
  readonly name: string;
  readonly version?: string;
}

/** An instrumentation scope as the `scope` field of a `ScopeSpans`, encoded once. */
export class EncodedScope {
  private static readonly known = new Map<string, EncodedScope>();
  readonly field: Buffer;

  private constructor(scope: OtlpScope) {
    this.field = encoded((out) => {
      const mark = out.beginDelimited(ScopeSpansField.scope);
      out.stringField(ScopeField.name, scope.name);
      if (scope.version !== undefined) out.stringField(ScopeField.version, scope.version);
      out.endDelimited(mark);
    });
  }

  /** One object per name and version: the SDK's tracers each have their own object for the same scope. */
  static of(scope: OtlpScope): EncodedScope {
    const key = `${scope.name}\n${scope.version ?? ''}`;
    let known = EncodedScope.known.get(key);
    if (known === undefined) {
      known = new EncodedScope(scope);
      EncodedScope.known.set(key, known);
    }
    return known;
  }
}

/** A resource's attributes as the `resource` field of a `ResourceSpans`. */
export function resourceField(attributes: Attributes): Buffer {
  return encoded((out) => {
    const mark = out.beginDelimited(ResourceSpansField.resource);
    writeAttributes(out, ResourceField.attributes, attributes);
    out.endDelimited(mark);
  });
}

interface Run {
  readonly scope: EncodedScope;
  readonly start: number;
  end: number;
}

/**
 * The spans of one export request, encoded as they end. They go one after another into one buffer, in
 * runs of spans of the same scope; the request's framing (the resource, each run's `ScopeSpans` and its
 * length) is only known when the batch is complete, and is written then, around those bytes, without
 * copying them (`request`).
 */
export class SpanBatch {
  private readonly out = new ProtoWriter();
  private runs: Run[] = [];
  private run: Run | undefined;
  private count = 0;

  get spans(): number {
    return this.count;
  }

  add(scope: EncodedScope, span: EncodableSpan): void {
    const out = this.out;
    if (this.run?.scope !== scope) {
      this.closeRun();
      this.run = { scope, start: out.size, end: 0 };
    }
    const mark = out.beginDelimited(ScopeSpansField.spans);
    span.encodeOtlp(out);
    out.endDelimited(mark);
    this.count++;
  }

  /**
   * The `ExportTraceServiceRequest` as chunks to send one after another: headers, and views of the spans'
   * bytes, valid until `reset`.
   */
  request(resource: Buffer): Buffer[] {
    this.closeRun();
    const body = this.out.bytesWritten;
    const chunks: Buffer[] = [];
    let resourceSpansSize = resource.length;
    for (const run of this.runs) {
      const scopeSpansSize = run.scope.field.length + run.end - run.start;
      const header = encoded((out) => {
        out.tag(ResourceSpansField.scopeSpans, WireType.delimited);
        out.varint(scopeSpansSize);
        out.bytes(run.scope.field);
      });
      chunks.push(header, body.subarray(run.start, run.end));
      resourceSpansSize += header.length + run.end - run.start;
    }
    const head = encoded((out) => {
      out.tag(RequestField.resourceSpans, WireType.delimited);
      out.varint(resourceSpansSize);
      out.bytes(resource);
    });
    return [head, ...chunks];
  }

  /** Empties the batch for reuse; its buffer stays, grown to the size a batch needs. */
  reset(): void {
    this.out.reset();
    this.runs = [];
    this.run = undefined;
    this.count = 0;
  }

  private closeRun(): void {
    if (this.run === undefined) return;
    this.run.end = this.out.size;
    this.runs.push(this.run);
    this.run = undefined;
  }
}
