import { describe, expect, it } from 'vitest';
import { decodeTraceExport } from '../../src/otlp/decode';
import { SpanField, writeAttributes } from '../../src/otlp/otlp-proto';
import { ProtoWriter } from '../../src/otlp/proto-writer';
import { EncodedScope, resourceField, SpanBatch } from '../../src/otlp/span-batch';

const hex = (out: ProtoWriter) => out.bytesWritten.toString('hex');

/** Spans made of whatever `write` puts in them, read back through a whole export request. */
function decodedSpans(...writes: ((out: ProtoWriter) => void)[]) {
  const batch = new SpanBatch();
  const scope = EncodedScope.of({ name: 'test' });
  for (const write of writes) batch.add(scope, { encodeOtlp: write });
  return decodeTraceExport(Buffer.concat(batch.request(resourceField({})))).resourceSpans[0].scopeSpans[0]
    .spans;
}

describe('ProtoWriter', () => {
  it('writes varints, and negative int64 values in ten bytes of two’s complement', () => {
    const cases: [number, string][] = [
      [0, '00'],
      [1, '01'],
      [300, 'ac02'],
      [2 ** 31, '8080808008'],
      [2 ** 53 - 1, 'ffffffffffffff0f'],
    ];
    for (const [value, encoded] of cases) {
      const out = new ProtoWriter(8);
      out.varint(value);
      expect(hex(out), String(value)).toBe(encoded);
    }
    const negative: [number, string][] = [
      [-1, 'ffffffffffffffffff01'],
      [-2, 'feffffffffffffffff01'],
      [-(2 ** 40), '8080808080e0ffffff01'],
    ];
    for (const [value, encoded] of negative) {
      const out = new ProtoWriter(8);
      out.int64(value);
      expect(hex(out), String(value)).toBe(encoded);
    }
  });

  it('writes times as fixed64 Unix nanoseconds, exact for performance.now() readings and HrTime', () => {
    const [span] = decodedSpans((out) => {
      out.unixNanoField(SpanField.startTime, 1234.567891);
      out.hrTimeField(SpanField.endTime, [1_764_028_800, 999_999_999]);
    });
    const micros = BigInt(Math.round((performance.timeOrigin + 1234.567891) * 1000));
    expect(span.startTimeUnixNano).toBe((micros * 1000n).toString());
    expect(span.endTimeUnixNano).toBe('1764028800999999999');
  });

  it('fits a nested message’s length whatever its size, moving it when the reserve does not fit', () => {
    const long = 'x'.repeat(20_000);
    const spans = decodedSpans(
      (out) => out.stringField(SpanField.name, 'a'), // 3 bytes: its length takes one byte, not two
      (out) => out.stringField(SpanField.name, long), // over 16 KB: three bytes
      (out) => out.stringField(SpanField.name, 'é'.repeat(100)),
    );
    expect(spans.map((s) => s.name)).toEqual(['a', long, 'é'.repeat(100)]);
  });

  it('writes a string as its UTF-8 length and bytes, whether ASCII (copied in JavaScript) or not', () => {
    const strings = [
      '',
      'bench/in/7',
      'x'.repeat(127),
      'x'.repeat(128),
      'é',
      'sensors/é',
      '😀',
      'x'.repeat(126) + 'é',
    ];
    for (const value of strings) {
      const out = new ProtoWriter(4); // grows on the way: the first write reserves
      out.stringField(SpanField.name, value);
      const utf8 = Buffer.from(value, 'utf8');
      const length = new ProtoWriter(4);
      length.varint(utf8.length);
      const expected = Buffer.concat([Buffer.from([(SpanField.name << 3) | 2]), length.bytesWritten, utf8]);
      expect(hex(out), JSON.stringify(value)).toBe(expected.toString('hex'));
    }
  });

  it('grows past its first buffer without losing what it holds', () => {
    const out = new ProtoWriter(16);
    const chunk = Buffer.alloc(10_000, 0x61);
    for (let i = 0; i < 20; i++) out.bytes(chunk);
    out.bytes(Buffer.from('!'));
    expect(out.size).toBe(200_001);
    expect(out.bytesWritten.toString('latin1', 199_990)).toBe('aaaaaaaaaa!');
  });

  it('encodes attribute values with their OTLP types', () => {
    const [span] = decodedSpans((out) =>
      writeAttributes(out, SpanField.attributes, {
        s: 'x',
        unicode: '日本 🚀',
        i: 42,
        negative: -7,
        d: 1.5,
        b: true,
        nan: NaN,
        list: ['a', 'b'],
        skipped: undefined,
      }),
    );
    expect(span.attributes).toEqual([
      { key: 's', value: { stringValue: 'x' } },
      { key: 'unicode', value: { stringValue: '日本 🚀' } },
      { key: 'i', value: { intValue: 42 } },
      { key: 'negative', value: { intValue: -7 } },
      { key: 'd', value: { doubleValue: 1.5 } },
      { key: 'b', value: { boolValue: true } },
      { key: 'nan', value: { doubleValue: NaN } },
      { key: 'list', value: { arrayValue: { values: [{ stringValue: 'a' }, { stringValue: 'b' }] } } },
    ]);
  });

  it('writes ids given as words (message spans) and as hex (SDK spans) as the same bytes', () => {
    const words = new ProtoWriter(32);
    words.spanIdField(SpanField.spanId, 0x0123abcd, -0x10325477);
    const hexId = new ProtoWriter(32);
    hexId.hexField(SpanField.spanId, '0123abcdefcdab89');
    expect(hex(words)).toBe(hex(hexId));
    const trace = new ProtoWriter(32);
    trace.traceIdField(SpanField.traceId, 1, 2, 3, -1);
    expect(hex(trace)).toBe('0a1000000001000000020000000' + '3ffffffff');
  });
});
