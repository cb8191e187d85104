import type { Logger } from '@fluxmq/engine';
import { trace } from '@opentelemetry/api';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** One JSON object per line on stdout, ready for a log shipper; fields sit beside `msg`. */
export function createJsonLogger(level: LogLevel, write: (line: string) => void = writeStdout): Logger {
  const min = RANK[level];
  const log =
    (lvl: Exclude<LogLevel, 'silent'>) =>
    (msg: string, fields?: Record<string, unknown>): void => {
      if (RANK[lvl] < min) return;
      // A line written inside an active span carries its ids, so logs and traces join up.
      const span = fields?.['trace_id'] === undefined ? trace.getActiveSpan() : undefined;
      const ids = span
        ? { trace_id: span.spanContext().traceId, span_id: span.spanContext().spanId }
        : undefined;
      write(JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...ids, ...fields }) + '\n');
    };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

function writeStdout(line: string): void {
  process.stdout.write(line);
}
