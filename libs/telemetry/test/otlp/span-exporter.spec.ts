import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { Message } from '@fluxmq/engine';
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { MessageSpanRecorder } from '../../src/message-spans/recorder';
import { decodeTraceExport, type DecodedTraceExport } from '../../src/otlp/decode';
import { SpanExportProcessor } from '../../src/otlp/sdk-span-processor';
import { otlpExportSettings } from '../../src/otlp/settings';
import { OtlpSpanExporter } from '../../src/otlp/span-exporter';

interface Received {
  url: string;
  headers: IncomingHttpHeaders;
  request: DecodedTraceExport;
}

/** An OTLP/HTTP receiver answering with `statuses` in turn (the last one from then on), after `delayMs`. */
async function receiver(
  statuses: number[],
  delayMs = 0,
): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
      received.push({
        url: req.url ?? '',
        headers: req.headers,
        request: decodeTraceExport(body),
      });
      const status = statuses[Math.min(received.length, statuses.length) - 1];
      const headers = { 'content-type': 'application/x-protobuf', 'retry-after': '0' };
      setTimeout(() => res.writeHead(status, headers).end(), delayMs);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received, server };
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function exporterTo(status: number | number[], env: Record<string, string> = {}, delayMs = 0) {
  const sink = await receiver(Array.isArray(status) ? status : [status], delayMs);
  servers.push(sink.server);
  const resource = resourceFromAttributes({
    'service.name': 'fluxmq',
    'host.id': new Promise<string>((r) => setTimeout(() => r('machine-1'), 10)),
  });
  const failures: [string, number][] = [];
  const settings = otlpExportSettings(env, sink.url);
  const exporter = new OtlpSpanExporter(
    { ...settings, batch: { ...settings.batch, retryDelaysMs: [10] } },
    resource,
    { name: 'fluxmq', version: '1.2.3' },
    (error, spans) => failures.push([error.message, spans]),
  );
  return { exporter, received: sink.received, failures, server: sink.server };
}

/** The publish span of one message the broker publishes itself, ended. */
function traceOneMessage(exporter: OtlpSpanExporter): void {
  new MessageSpanRecorder(exporter)
    .start(undefined, new Message('t', Buffer.alloc(1), 0, false, undefined, '', 0), undefined)!
    .end();
}

describe('OtlpSpanExporter', () => {
  it('posts message spans and the SDK’s spans together as OTLP protobuf, under the resource, by scope', async () => {
    const { exporter, received } = await exporterTo(200, { OTEL_EXPORTER_OTLP_HEADERS: 'x-token=s3cret' });
    const provider = new BasicTracerProvider({ spanProcessors: [new SpanExportProcessor(exporter)] });
    const parent = provider.getTracer('fluxmq', '1.2.3').startSpan('connect');
    const child = provider
      .getTracer('other-library')
      .startSpan('lookup', { attributes: { n: 1 } }, trace.setSpan(context.active(), parent));
    child.addEvent('cache miss', { key: 'k' });
    child.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
    child.end();
    parent.end();
    const publish = new MessageSpanRecorder(exporter).start(
      undefined,
      new Message('t', Buffer.alloc(3), 0, false, undefined, '', 0),
      undefined,
    )!;
    publish.end();
    await provider.forceFlush();

    expect(received).toHaveLength(1);
    const [{ url, headers, request }] = received;
    expect(url).toBe('/v1/traces');
    expect(headers).toMatchObject({ 'content-type': 'application/x-protobuf', 'x-token': 's3cret' });
    const [resourceSpans] = request.resourceSpans;
    expect(resourceSpans.resource.attributes).toEqual([
      { key: 'service.name', value: { stringValue: 'fluxmq' } },
      { key: 'host.id', value: { stringValue: 'machine-1' } }, // detected asynchronously, awaited
    ]);
    const scopes = resourceSpans.scopeSpans.map((s) => [s.scope, s.spans.map((span) => span['name'])]);
    expect(scopes).toEqual([
      [{ name: 'other-library' }, ['lookup']],
      [{ name: 'fluxmq', version: '1.2.3' }, ['connect', 'publish']],
    ]);
    const lookup = resourceSpans.scopeSpans[0].spans[0];
    const connect = resourceSpans.scopeSpans[1].spans[0];
    expect(lookup).toMatchObject({
      traceId: parent.spanContext().traceId,
      spanId: child.spanContext().spanId,
      parentSpanId: parent.spanContext().spanId,
      kind: 1,
      attributes: [{ key: 'n', value: { intValue: 1 } }],
      status: { code: 2, message: 'boom' },
      events: [{ name: 'cache miss', attributes: [{ key: 'key', value: { stringValue: 'k' } }] }],
    });
    expect(connect).not.toHaveProperty('parentSpanId');
    expect(exporter.stats).toEqual({ exported: 3, dropped: 0, failed: 0, tracesShed: 0 });
  });

  it('gzips the body when OTEL_EXPORTER_OTLP_COMPRESSION says so', async () => {
    const { exporter, received } = await exporterTo(200, { OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' });
    traceOneMessage(exporter);
    await exporter.flush();
    expect(received[0].headers['content-encoding']).toBe('gzip');
    expect(received[0].request.resourceSpans[0].scopeSpans[0].spans).toHaveLength(1);
  });

  it('counts the spans of a refused or timed-out export as failed, and says why', async () => {
    const refused = await exporterTo(500);
    traceOneMessage(refused.exporter);
    await refused.exporter.flush();
    expect(refused.exporter.stats).toMatchObject({ exported: 0, failed: 1 });
    expect(refused.failures).toEqual([['OTLP export refused: HTTP 500', 1]]);

    const slow = await exporterTo(200, { OTEL_EXPORTER_OTLP_TIMEOUT: '50' }, 1000);
    traceOneMessage(slow.exporter);
    await slow.exporter.flush();
    expect(slow.exporter.stats).toMatchObject({ exported: 0, failed: 1 });
    expect(slow.failures).toEqual([['OTLP export timed out after 50 ms', 1]]);
    expect(slow.received).toHaveLength(2); // a timeout may pass: tried again once (retryDelaysMs: [10])
    expect(refused.received).toHaveLength(1); // a 500 will not
  });

  it('sends a batch again when the collector answers 503, honouring Retry-After', async () => {
    const { exporter, received, failures } = await exporterTo([503, 200]);
    traceOneMessage(exporter);
    await exporter.flush();
    expect(received).toHaveLength(2);
    expect(received[1].request).toEqual(received[0].request);
    expect(exporter.stats).toMatchObject({ exported: 1, failed: 0 });
    expect(failures).toEqual([]);
  });

  it('closes its kept-alive connection to the collector at shutdown', async () => {
    const { exporter, received, server } = await exporterTo(200);
    const connections = () =>
      new Promise<number>((r, j) => server.getConnections((e, n) => (e ? j(e) : r(n))));
    traceOneMessage(exporter);
    await exporter.flush();
    expect(received).toHaveLength(1);
    expect(await connections()).toBe(1); // kept for the next export
    await exporter.shutdown();
    const deadline = Date.now() + 1000; // the collector would keep an idle connection for 5 s
    while ((await connections()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(await connections()).toBe(0);
  });
});
