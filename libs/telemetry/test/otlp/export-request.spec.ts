import { describe, expect, it } from 'vitest';
import { writeExportRequest } from '../../src/otlp/export-request';
import type { ExportableSpan } from '../../src/otlp/json';
import { JsonWriter } from '../../src/otlp/json-writer';

describe('writeExportRequest', () => {
  it('lets the event loop run while it encodes a large batch, and still writes every span', async () => {
    let written = 0;
    const slow: ExportableSpan = {
      scope: { name: 'test' },
      writeOtlpJson(out) {
        const until = performance.now() + 0.05;
        while (performance.now() < until);
        out.text(`{"n":${written++}}`);
      },
    };
    let writtenWhenOthersRan = -1;
    setImmediate(() => (writtenWhenOthersRan = written));
    const body = await writeExportRequest(new JsonWriter(), '', new Array<ExportableSpan>(256).fill(slow));
    expect(writtenWhenOthersRan).toBeGreaterThan(0);
    expect(writtenWhenOthersRan).toBeLessThan(256);
    const request = JSON.parse(body.toString()) as {
      resourceSpans: { scopeSpans: { spans: { n: number }[] }[] }[];
    };
    expect(request.resourceSpans[0].scopeSpans[0].spans.map((s) => s.n)).toEqual([...Array(256).keys()]);
  });
});
