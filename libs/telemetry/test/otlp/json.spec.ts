import { describe, expect, it } from 'vitest';
import { attributesJson, jsonString } from '../../src/otlp/json';
import { JsonWriter, WrittenText } from '../../src/otlp/json-writer';

describe('OTLP JSON text', () => {
  it.each([
    'plain/topic',
    'quote " and \\ backslash',
    'tab\tnew\nline\u0001',
    'café ü',
    '日本語',
    '🚀 rocket',
    'lone \ud800',
  ])('writes %j as an ASCII JSON string that parses back', (value) => {
    const text = jsonString(value);
    expect(text).toMatch(/^[\x20-\x7e]*$/);
    expect(JSON.parse(text)).toBe(value);
  });

  it('encodes attribute values with their OTLP types', () => {
    const json = `[${attributesJson({
      s: 'x',
      i: 42,
      d: 1.5,
      b: true,
      nan: NaN,
      list: ['a', 'b'],
      skipped: undefined,
    })}]`;
    expect(JSON.parse(json)).toEqual([
      { key: 's', value: { stringValue: 'x' } },
      { key: 'i', value: { intValue: 42 } },
      { key: 'd', value: { doubleValue: 1.5 } },
      { key: 'b', value: { boolValue: true } },
      { key: 'nan', value: { doubleValue: 'NaN' } },
      { key: 'list', value: { arrayValue: { values: [{ stringValue: 'a' }, { stringValue: 'b' }] } } },
    ]);
  });
});

describe('JsonWriter', () => {
  it('writes performance.now() readings as Unix epoch nanoseconds, exact to the microsecond', () => {
    const out = new JsonWriter();
    for (const ms of [0, 0.001, 1234.567891, 86_400_000.5]) {
      out.reset();
      out.unixNano(ms);
      const micros = BigInt(Math.round((performance.timeOrigin + ms) * 1000));
      expect(out.body.toString()).toBe((micros * 1000n).toString());
    }
  });

  it('writes whole numbers, and copies a repeated piece from where it was first written in this body', () => {
    const out = new JsonWriter();
    const piece = new WrittenText();
    for (const n of [0, 7, 10, 2147483647]) out.integer(n);
    expect(out.repeat(piece)).toBe(false);
    out.startPiece(piece);
    out.text('<shared>');
    out.endPiece(piece);
    expect(out.repeat(piece)).toBe(true);
    expect(out.body.toString()).toBe('07102147483647<shared><shared>');
    out.reset();
    expect(out.repeat(piece)).toBe(false); // a new body: the old place is gone
  });

  it('grows past its first buffer without losing what it holds', () => {
    const out = new JsonWriter();
    const chunk = 'x'.repeat(10_000);
    for (let i = 0; i < 20; i++) out.text(chunk);
    out.bytes(Buffer.from('!'));
    expect(out.body.length).toBe(200_001);
    expect(out.body.toString('latin1', 199_990)).toBe('xxxxxxxxxx!');
  });
});
