import { randomFillSync } from 'node:crypto';

// Trace and span ids in lowercase hex, as W3C traceparent and OTLP/JSON carry them, cut from pools of
// random bytes: a crypto call per id would cost more than the rest of a span.
const POOL_BYTES = 2048;

const bytes = Buffer.allocUnsafe(POOL_BYTES);
let nextByte = POOL_BYTES;

function randomHex(byteCount: number): string {
  if (nextByte + byteCount > POOL_BYTES) {
    randomFillSync(bytes);
    nextByte = 0;
  }
  const id = bytes.toString('hex', nextByte, nextByte + byteCount);
  nextByte += byteCount;
  return id;
}

export function newTraceId(): string {
  return randomHex(16);
}

/** An id with a string of its own, for spans that may live long: a retained message keeps its publish span. */
export function newSpanId(): string {
  return randomHex(8);
}

const hexPool = Buffer.allocUnsafe(POOL_BYTES);
let hex = '';
let nextDigit = 0;

/**
 * A slice of one shared random hex string, three times cheaper than `newSpanId`, for the many spans that are
 * exported within seconds (deliveries, route, authorize); a slice keeps the whole 4 KB string alive meanwhile.
 */
export function newShortLivedSpanId(): string {
  if (nextDigit + 16 > hex.length) {
    randomFillSync(hexPool);
    hex = hexPool.toString('hex');
    nextDigit = 0;
  }
  const id = hex.slice(nextDigit, nextDigit + 16);
  nextDigit += 16;
  return id;
}
