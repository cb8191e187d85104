import { describe, expect, it } from 'vitest';
import { utf8Length } from '../src';

describe('utf8Length', () => {
  it('counts UTF-8 bytes as Buffer.byteLength does, surrogates included', () => {
    const samples = [
      '',
      'sensors/room-1/temp',
      'café/é', // 2-byte characters
      '温度/センサー', // 3-byte characters
      'emoji/😀/🚀', // surrogate pairs: 4 bytes each
      '\u{10ffff}', // the last code point
      'lone/\ud800/high', // a lone high surrogate: U+FFFD, 3 bytes
      'lone/\udc00/low', // a lone low surrogate
      'ends/high\ud83d', // a high surrogate with nothing after it
      '\udc00\ud800', // low before high: two lone surrogates
      '\u007f\u0080\u07ff\u0800\uffff', // the edges of each length
    ];
    for (const s of samples) expect(utf8Length(s), JSON.stringify(s)).toBe(Buffer.byteLength(s));
  });

  it('agrees with Buffer.byteLength on random strings of every kind of unit', () => {
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    for (let n = 0; n < 2000; n++) {
      const units = Array.from({ length: next() % 12 }, () => {
        const kind = next() % 4;
        if (kind === 0) return next() % 0x80;
        if (kind === 1) return 0x80 + (next() % 0x780);
        if (kind === 2) return 0xd800 + (next() % 0x800); // any surrogate, paired or not
        return 0x800 + (next() % 0xf800);
      });
      const s = String.fromCharCode(...units);
      expect(utf8Length(s)).toBe(Buffer.byteLength(s));
    }
  });
});
