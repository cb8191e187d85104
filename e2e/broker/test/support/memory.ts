import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gcFunction: (() => void) | undefined;

/**
 * Runs a full garbage collection, so memory figures show what is retained rather than what is merely not yet
 * collected. Twice: V8 frees ArrayBuffer memory on a background thread after a collection (and counts it as
 * freed only then, which a busy machine delays); the next collection first waits for that to finish. Works
 * without --expose-gc on the command line: the flag can be set at run time, and a new context has `gc`.
 */
export function collectGarbage(): void {
  gcFunction ??=
    (globalThis as { gc?: () => void }).gc ??
    ((): (() => void) => {
      setFlagsFromString('--expose-gc');
      return runInNewContext('gc') as () => void;
    })();
  gcFunction();
  gcFunction();
}

export interface MemorySample {
  /** The whole process: broker, test code and any worker threads. */
  rss: number;
  /** This isolate's heap plus the memory its objects hold outside it (buffers): in FluxMQ mode, the broker's. */
  main: number;
  /** Bytes of ArrayBuffers (Buffers) held by this isolate. */
  arrayBuffers: number;
}

/** Memory after a full GC. */
export function sampleMemory(): MemorySample {
  collectGarbage();
  const m = process.memoryUsage();
  return { rss: m.rss, main: m.heapUsed + m.external, arrayBuffers: m.arrayBuffers };
}

export function megabytes(bytes: number): number {
  return Math.round(bytes / 1048576);
}
