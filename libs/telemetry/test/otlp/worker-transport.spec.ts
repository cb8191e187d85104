import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ExportError } from '../../src/otlp/http-transport';
import { WorkerHttpTransport } from '../../src/otlp/worker-transport';

// The compiled export worker needs a build; this stand-in speaks the same messages, so the transport's
// side (bodies, answers, a worker that dies) is tested here and the real worker by the broker's e2e tests.
const dir = mkdtempSync(join(tmpdir(), 'fluxmq-worker-transport-'));
const script = join(dir, 'worker.js');
writeFileSync(
  script,
  `const { parentPort, workerData } = require('node:worker_threads');
parentPort.on('message', ({ id, body }) => {
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString();
  if (text === 'exit') process.exit(3);
  if (text === 'settings') return parentPort.postMessage({ id, error: { message: JSON.stringify(workerData), retryable: false } });
  if (text.startsWith('ok')) return parentPort.postMessage({ id });
  parentPort.postMessage({ id, error: { message: text, retryable: text.includes('retry'), retryAfterMs: 2000 } });
});`,
);
const settings = {
  url: 'http://127.0.0.1:1/v1/traces',
  headers: { a: 'b' },
  timeoutMs: 1000,
  compression: 'none' as const,
};

describe('WorkerHttpTransport', () => {
  let transport: WorkerHttpTransport | undefined;
  afterEach(async () => {
    await transport?.close();
    transport = undefined;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const failure = (text: string) => {
    transport ??= new WorkerHttpTransport(settings, script);
    return transport.send([Buffer.from(text)]).then(
      () => undefined,
      (err: unknown) => err as ExportError,
    );
  };

  it('hands the worker the chunks as one body, and the chunks back at once', async () => {
    transport = new WorkerHttpTransport(settings, script);
    const chunks = [Buffer.from('o'), Buffer.from('k, '), Buffer.from('in three')];
    const sent = transport.send(chunks);
    chunks[0].write('x'); // the body was copied when send returned: reusing a chunk changes nothing
    await expect(sent).resolves.toBeUndefined();
    expect((await failure('not ok'))?.message).toBe('not ok');
  });

  it('passes the HTTP settings to the worker, and its errors back as ExportError', async () => {
    expect(JSON.parse((await failure('settings'))!.message)).toEqual(settings);
    const refused = await failure('refused');
    expect(refused).toBeInstanceOf(ExportError);
    expect(refused).toMatchObject({ message: 'refused', retryable: false, retryAfterMs: 2000 });
    expect(await failure('retry later')).toMatchObject({ retryable: true });
  });

  it('fails what a dying worker held as retryable, and starts another for the next body', async () => {
    const lost = await failure('exit');
    expect(lost).toBeInstanceOf(ExportError);
    expect(lost).toMatchObject({ retryable: true, message: expect.stringMatching(/exited with code 3/) });
    expect(await failure('ok again')).toBeUndefined();
  });
});
