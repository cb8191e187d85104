import { execFile, spawn } from 'node:child_process';
import type { TestBroker } from './broker';
import { onCleanup } from './cleanup';
import { waitUntil } from './wait';

export const MOSQUITTO_SUB = '/usr/bin/mosquitto_sub';
export const MOSQUITTO_PUB = '/usr/bin/mosquitto_pub';
export const STDBUF = '/usr/bin/stdbuf';

export interface CliMessage {
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
  /** The JSON line exactly as printed (keeps repeated user property names, which JSON.parse would merge). */
  line: string;
  properties: Record<string, unknown>;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function parseMessage(line: string): CliMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!isRecord(value) || typeof value['topic'] !== 'string') return undefined;
  const payload = value['payload'];
  return {
    topic: value['topic'],
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload ?? ''),
    qos: Number(value['qos']),
    retain: value['retain'] === 1 || value['retain'] === true,
    line,
    properties: isRecord(value['properties']) ? value['properties'] : {},
  };
}

/**
 * A running `mosquitto_sub` printing one JSON line per message (`-F %j`) plus debug lines (`-d`), which tell
 * when its SUBACK arrived: `ready()` resolves then, so a publish afterwards is guaranteed to be seen.
 */
export class MosquittoSub {
  readonly messages: CliMessage[] = [];
  private stdout = '';
  private stderr = '';
  private subscribed = false;
  private readonly result: Promise<CliResult>;
  private readonly unregister: () => void;
  private exited = false;

  constructor(broker: TestBroker, args: string[], timeoutMs: number) {
    // mosquitto_sub block-buffers stdout into a pipe: stdbuf makes it line-buffered, so the SUBACK debug
    // line (and each message) arrives as soon as it is printed.
    const child = spawn(
      STDBUF,
      [
        '-oL',
        MOSQUITTO_SUB,
        ...['-h', broker.host, '-p', String(broker.tcpPort), '-d', '-F', '%j'],
        ...['-W', String(Math.ceil(timeoutMs / 1000)), ...args],
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let partial = '';
    child.stdout.on('data', (chunk: Buffer) => {
      this.stdout += chunk.toString();
      partial += chunk.toString();
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (/received SUBACK/.test(line)) this.subscribed = true;
        if (line.startsWith('{')) {
          const message = parseMessage(line);
          if (message) this.messages.push(message);
        }
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 2000);
    this.result = new Promise((resolve) => {
      // 'close', not 'exit': stdout may still hold the last lines when the process has exited.
      child.once('close', (code, signal) => {
        this.exited = true;
        clearTimeout(killer);
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr });
      });
    });
    this.unregister = onCleanup('mosquitto_sub', async () => {
      if (!this.exited) child.kill('SIGKILL');
      await this.result;
    });
  }

  /** Resolves once the subscription is acknowledged. */
  async ready(timeoutMs = 5000): Promise<void> {
    await waitUntil(() => this.subscribed || this.exited, timeoutMs, 'mosquitto_sub SUBACK');
    if (!this.subscribed)
      throw new Error(`mosquitto_sub exited before subscribing:\n${this.stderr}${this.stdout}`);
  }

  /** Resolves when the process exits (after -C messages, or -W seconds). */
  async done(): Promise<CliResult> {
    const result = await this.result;
    this.unregister();
    return result;
  }
}

/** Starts `mosquitto_sub` against the broker and waits for its SUBACK. */
export async function startMosquittoSub(
  broker: TestBroker,
  args: string[],
  timeoutMs = 5000,
): Promise<MosquittoSub> {
  const sub = new MosquittoSub(broker, args, timeoutMs);
  await sub.ready();
  return sub;
}

/** Runs `mosquitto_pub` against the broker to completion. */
export function mosquittoPub(
  broker: TestBroker,
  args: string[],
  options: { input?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      MOSQUITTO_PUB,
      ['-h', broker.host, '-p', String(broker.tcpPort), ...args],
      { timeout: options.timeoutMs ?? 5000, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        const code = error && typeof error.code === 'number' ? error.code : error ? null : 0;
        resolve({ code, signal: error?.signal ?? null, stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}
