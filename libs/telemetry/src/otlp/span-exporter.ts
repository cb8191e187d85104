import type { Attributes } from '@opentelemetry/api';
import { OtlpHttpTransport } from './http-transport';
import { writeExportRequest } from './export-request';
import { attributesJson, type ExportableSpan, type OtlpScope } from './json';
import { JsonWriter } from './json-writer';
import type { OtlpExportSettings } from './settings';
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
 * FluxMQ's span exporter: batches finished spans (message span records and, through
 * `SpanExportProcessor`, the SDK's own spans) and sends them as OTLP/HTTP JSON, which the OpenTelemetry
 * Collector and Jaeger accept on :4318.
 */
export class OtlpSpanExporter {
  private readonly batcher: SpanBatcher<ExportableSpan>;
  private resourceJson: string | undefined;
  private shedCount = 0;

  constructor(
    settings: OtlpExportSettings,
    private readonly resource: ExportResource,
    /** The scope of message spans: FluxMQ's name and version. */
    readonly scope: OtlpScope,
  ) {
    const transport = new OtlpHttpTransport(settings);
    const writer = new JsonWriter();
    // The batcher sends one batch at a time, and a send is over only once the transport is done with the
    // body, so the writer's one buffer serves every batch.
    this.batcher = new SpanBatcher(settings.batch, async (spans) =>
      transport.send(await writeExportRequest(writer, await this.resourceAttributes(), spans)),
    );
  }

  get backlogged(): boolean {
    return this.batcher.backlogged;
  }

  get stats(): SpanExportStats {
    return { ...this.batcher.counts, tracesShed: this.shedCount };
  }

  add(span: ExportableSpan): void {
    this.batcher.add(span);
  }

  shed(): void {
    this.shedCount++;
  }

  flush(): Promise<void> {
    return this.batcher.flush();
  }

  shutdown(): Promise<void> {
    return this.batcher.shutdown();
  }

  private async resourceAttributes(): Promise<string> {
    if (this.resourceJson === undefined) {
      await this.resource.waitForAsyncAttributes?.();
      this.resourceJson = attributesJson(this.resource.attributes);
    }
    return this.resourceJson;
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
