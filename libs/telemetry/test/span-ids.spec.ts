import { describe, expect, it } from 'vitest';
import { hexWord, randomWord, wordOfHex } from '../src/span-ids';

describe('span ids', () => {
  it('draws words that do not repeat as span ids, over all 32 bits', () => {
    const ids = new Set<string>();
    let ored = 0;
    let anded = -1;
    for (let i = 0; i < 200_000; i++) {
      const high = randomWord();
      const low = randomWord();
      ids.add(hexWord(high) + hexWord(low));
      ored |= high | low;
      anded &= high & low;
    }
    expect(ids.size).toBe(200_000);
    expect(ored).toBe(-1); // every bit is set somewhere...
    expect(anded).toBe(0); // ...and clear somewhere
  });

  it('spells words as 8 hex digits and reads them back', () => {
    expect(hexWord(0)).toBe('00000000');
    expect(hexWord(-1)).toBe('ffffffff');
    expect(hexWord(0x0a0b0c0d)).toBe('0a0b0c0d');
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const words = [0, 1, 2, 3].map((i) => wordOfHex(traceId, i));
    expect(words.map(hexWord).join('')).toBe(traceId);
  });
});
