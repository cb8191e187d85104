import type { Attributes } from '@opentelemetry/api';
import { OtlpHttpTransport } from './http-transport';
import type { OtlpExportSettings } from './settings';
import { EncodedScope, resourceField, type EncodableSpan, type OtlpScope } from './span-batch';
import { SpanBatcher, type ExportCounts } from './span-batcher';

/** The resource spans are reported under; OpenTelemetry's `Resource` fits (its detectors may be async). */
export interface ExportResource {
  readonly attributes: Attributes;
  waitForAsyncAttributes?(): Promise<void>;
}

export interface SpanExportStats extends Readonly<ExportCounts> {
  /** Sampled messages left untraced because the queue was backlogged (see `SpanBatcher.backlogged`). */
  readonly tracesShed: number;
}

/**
 * FluxMQ's span exporter: encodes finished spans (message span records and, through
 * `SpanExportProcessor`, the SDK's own spans) as they end, and sends them in batches as OTLP/HTTP
 * protobuf, which the OpenTelemetry Collector, Jaeger and other OTLP backends accept on :4318.
 */
export class OtlpSpanExporter {
  /** The scope of message spans: FluxMQ's name and version. */
  readonly messageScope: EncodedScope;
  private readonly batcher: SpanBatcher;
  private readonly transport: OtlpHttpTransport;
  private resource: Buffer | undefined;
  private shedCount = 0;

  constructor(
    settings: OtlpExportSettings,
    private readonly resourceToExport: ExportResource,
    scope: OtlpScope,
    /** Told of each failed export (its spans are counted and not retried). */
    onExportFailed?: (error: Error, spans: number) => void,
  ) {
    this.messageScope = EncodedScope.of(scope);
    this.transport = new OtlpHttpTransport(settings);
    this.batcher = new SpanBatcher(
      settings.batch,
      async (batch) => this.transport.send(batch.request(await this.resourceBytes())),
      (error, spans) => onExportFailed?.(error instanceof Error ? error : new Error(String(error)), spans),
    );
  }

  get backlogged(): boolean {
    return this.batcher.backlogged;
  }

  get stats(): SpanExportStats {
    return { ...this.batcher.counts, tracesShed: this.shedCount };
  }

  /** Encodes a finished span into the open batch, or drops it (counted) when the queue is full. */
  add(span: EncodableSpan, scope = this.messageScope): void {
    this.batcher.add(scope, span);
  }

  /** Counts a sampled message left untraced because the exporter was backlogged. */
  shed(): void {
    this.shedCount++;
  }

  flush(): Promise<void> {
    return this.batcher.flush();
  }

  async shutdown(): Promise<void> {
    await this.batcher.shutdown();
    this.transport.destroy();
  }

  private async resourceBytes(): Promise<Buffer> {
    if (this.resource === undefined) {
      await this.resourceToExport.waitForAsyncAttributes?.();
      this.resource = resourceField(this.resourceToExport.attributes);
    }
    return this.resource;
  }
}

let installed: OtlpSpanExporter | undefined;

/**
 * Makes `exporter` the destination of message spans for brokers started afterwards (the app does this
 * before it starts the broker, as it registers the OpenTelemetry SDK). Without one, message spans go
 * through the registered OpenTelemetry tracer provider like any other spans.
 */
export function installSpanExporter(exporter: OtlpSpanExporter): void {
  installed = exporter;
}

export function installedSpanExporter(): OtlpSpanExporter | undefined {
  return installed;
}
