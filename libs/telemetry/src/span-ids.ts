import { randomFillSync } from 'node:crypto';

// Trace and span ids as 32-bit words (a span id is two, a trace id four, most significant first), drawn
// from a pool of random bytes: a crypto call per id would cost more than the rest of a span, and words
// kept as numbers cost no string and nothing to collect. They are spelled in hex only where text is
// needed: a 5.0 subscriber's traceparent, a log line, an exemplar.
const words = new Int32Array(4096);
let nextWord = words.length;

export function randomWord(): number {
  if (nextWord === words.length) {
    randomFillSync(words);
    nextWord = 0;
  }
  return words[nextWord++];
}

export function hexWord(word: number): string {
  return (word >>> 0).toString(16).padStart(8, '0');
}

/** Word `index` of an id given in hex (a publisher's traceparent). */
export function wordOfHex(hex: string, index: number): number {
  return parseInt(hex.slice(index * 8, index * 8 + 8), 16) | 0;
}
