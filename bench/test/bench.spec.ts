import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchReport, BrokerName } from '../src/types';
import { SCENARIOS } from '../src/types';

// Runs the compiled benchmark exactly as `npm run bench -- --quick` does, in its own process, so the
// real broker launchers, /proc readings and cleanup are what is tested.
const bench = resolve(__dirname, '..');
const tsc = resolve(bench, '../node_modules/typescript/bin/tsc');
const fluxmqBuilt = existsSync(resolve(bench, '../apps/broker/dist/main.js'));
const brokers: BrokerName[] = fluxmqBuilt ? ['fluxmq', 'aedes'] : ['aedes'];

describe('bench --quick', () => {
  let dir: string;
  let report: BenchReport;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fluxmq-bench-test-'));
    const out = join(dir, 'results.json');
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: bench, stdio: 'pipe' });
    execFileSync(
      process.execPath,
      ['dist/run.js', '--quick', '--retries', '0', '--brokers', brokers.join(','), '--out', out],
      {
        cwd: bench,
        stdio: 'pipe',
        // Generous: on a 2-core CI machine it shares the cores with every other project's tests.
        timeout: 80000,
      },
    );
    report = JSON.parse(readFileSync(out, 'utf8')) as BenchReport;
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('records the machine it ran on', () => {
    expect(report.machine.cores).toBeGreaterThan(0);
    expect(report.machine.node).toBe(process.version);
    expect(report.machine.aedes).toMatch(/^1\./);
  });

  for (const broker of brokers) {
    for (const scenario of SCENARIOS) {
      it(`${broker} ${scenario}: completes with every message delivered and positive numbers`, () => {
        const result = report.results.find((r) => r.broker === broker && r.scenario === scenario);
        expect(result, `${broker} ${scenario} missing`).toBeDefined();
        if (!result) return;
        expect(result.error).toBeUndefined();
        expect(result.end).toBe('done');
        expect(result.sent).toBeGreaterThan(0);
        expect(result.delivered).toBe(result.expected);
        expect(result.metrics.length).toBeGreaterThan(0);
        for (const metric of result.metrics) {
          expect(metric.value, `${broker} ${scenario} ${metric.label}`).toBeGreaterThan(0);
        }
      });
    }
  }
});
