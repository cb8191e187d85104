import { randomFillSync } from 'node:crypto';

// Trace and span ids as 32-bit words (a span id is two, a trace id four, most significant first), kept as
// numbers: they cost no string and nothing to collect, and are spelled in hex only where text is needed
// (a 5.0 subscriber's traceparent, a log line, an exemplar). They come from xorshift128 seeded from the
// system's random source, as OpenTelemetry's own generator takes them from Math.random: ids must not
// collide, they are not secrets. A fan-out makes an id per subscriber, and drawing each from the crypto
// library would cost more than the rest of the span.
const state = new Int32Array(4);
do randomFillSync(state);
while (state[0] === 0 && state[1] === 0 && state[2] === 0 && state[3] === 0);

export function randomWord(): number {
  let t = state[3];
  const s = state[0];
  state[3] = state[2];
  state[2] = state[1];
  state[1] = s;
  t ^= t << 11;
  t ^= t >>> 8;
  return (state[0] = t ^ s ^ (s >>> 19));
}

export function hexWord(word: number): string {
  return (word >>> 0).toString(16).padStart(8, '0');
}

/** Word `index` of an id given in hex (a publisher's traceparent). */
export function wordOfHex(hex: string, index: number): number {
  return parseInt(hex.slice(index * 8, index * 8 + 8), 16) | 0;
}
