import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { format, resolveConfig } from 'prettier';
import type { BenchReport, BrokerName, Metric, ScenarioResult } from './types';
import { BROKERS } from './types';

/** Where the results table goes in docs/benchmarks.md. */
export const DOCS_MARKERS = { start: '<!-- bench:results:start -->', end: '<!-- bench:results:end -->' };

const LABELS: Record<BrokerName, string> = { fluxmq: 'FluxMQ', aedes: 'Aedes', mosquitto: 'Mosquitto' };
const HEADER = ['Scenario', 'Metric', ...BROKERS.map((b) => LABELS[b]), 'FluxMQ/Aedes', 'FluxMQ/Mosquitto'];

interface Row {
  scenario: string;
  metric: Metric;
  values: Record<BrokerName, Metric | undefined>;
  results: Record<BrokerName, ScenarioResult | undefined>;
}

/** One row per scenario x metric, in scenario order, each with every broker's value. */
function rows(report: BenchReport, titles: Record<string, string>): Row[] {
  const out: Row[] = [];
  for (const scenario of report.options.scenarios) {
    const forScenario = report.results.filter((r) => r.scenario === scenario);
    const keys = [...new Set(forScenario.flatMap((r) => r.metrics.map((m) => m.key)))];
    for (const key of keys) {
      const values = {} as Record<BrokerName, Metric | undefined>;
      const results = {} as Record<BrokerName, ScenarioResult | undefined>;
      for (const broker of BROKERS) {
        results[broker] = forScenario.find((r) => r.broker === broker);
        values[broker] = results[broker]?.metrics.find((m) => m.key === key);
      }
      const metric = BROKERS.map((b) => values[b]).find((m) => m !== undefined);
      if (metric) out.push({ scenario: titles[scenario] ?? scenario, metric, values, results });
    }
  }
  return out;
}

export function formatValue(metric: Pick<Metric, 'format' | 'value'>): string {
  const { value } = metric;
  if (value === null || !Number.isFinite(value)) return '–';
  if (metric.format === 'count') return Math.round(value).toLocaleString('en-US');
  if (metric.format === 'percent') return `${(value * 100).toFixed(2)}%`;
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

function cells(row: Row, missing: (broker: BrokerName) => string): string[] {
  const value = (broker: BrokerName): string => {
    const result = row.results[broker];
    if (!result) return missing(broker);
    const metric = row.values[broker];
    if (!metric) return 'error';
    // Marks keep a partial (stalled, timed out) or disturbed run from passing as a clean one.
    const partial = result.end === 'done' && !result.error ? '' : '*';
    return formatValue(metric) + partial + (result.disturbed ? '†' : '');
  };
  const ratio = (other: BrokerName): string => {
    const flux = row.values.fluxmq?.value;
    const base = row.values[other]?.value;
    if (flux == null || base == null || base === 0 || !Number.isFinite(flux / base)) return 'n/a';
    return `${(flux / base).toFixed(2)}x`;
  };
  const arrow = row.metric.better === 'higher' ? '↑' : '↓';
  return [
    row.scenario,
    `${row.metric.label} ${arrow}`,
    ...BROKERS.map(value),
    ratio('aedes'),
    ratio('mosquitto'),
  ];
}

const FOOTNOTE =
  '↑ higher is better, ↓ lower is better; ratios are FluxMQ ÷ other. ' +
  '* the run stalled or hit its time limit: counts are partial. ' +
  '† other processes used noticeable CPU meanwhile (otherCpuSeconds in the JSON).';

export function textTable(report: BenchReport, titles: Record<string, string>): string {
  const body = rows(report, titles).map((row) => cells(row, () => 'n/a'));
  const widths = HEADER.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (r: string[]): string =>
    r.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(HEADER), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line), '', FOOTNOTE].join(
    '\n',
  );
}

export function markdownTable(report: BenchReport, titles: Record<string, string>): string {
  // FluxMQ is "pending" rather than "n/a" when it was not built yet: the column is expected to fill.
  const missing = (broker: BrokerName): string => (broker === 'fluxmq' ? 'pending' : 'n/a');
  const body = rows(report, titles).map((row) => cells(row, missing));
  const line = (r: string[]): string => `| ${r.join(' | ')} |`;
  const align = HEADER.map((_, i) => (i < 2 ? '---' : '---:'));
  const m = report.machine;
  return [
    `Measured ${m.date.slice(0, 10)} on ${m.cpuModel} (${m.cores} cores, ${m.memoryMb} MB), ${m.os}, ` +
      `Node ${m.node}, Mosquitto ${m.mosquitto}, Aedes ${m.aedes}, FluxMQ ${m.fluxmq}` +
      `${(report.options.scale ?? 1) > 1 ? `, loads ×${report.options.scale}` : ''}` +
      `${report.options.quick ? ' — quick mode, not representative' : ''}.`,
    '',
    line(HEADER),
    line(align),
    ...body.map(line),
    '',
    FOOTNOTE,
  ].join('\n');
}

/**
 * Replaces the text between the markers in docs/benchmarks.md; false if the file or markers are missing.
 * The page is then formatted with the repository's Prettier settings, which `npm test` checks.
 */
export async function updateDocs(
  file: string,
  markdown: string,
  markers: { start: string; end: string },
): Promise<boolean> {
  if (!existsSync(file)) return false;
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf(markers.start);
  const end = text.indexOf(markers.end);
  if (start < 0 || end < start) return false;
  const updated = `${text.slice(0, start + markers.start.length)}\n${markdown}\n${text.slice(end)}`;
  const config = (await resolveConfig(file)) ?? {};
  writeFileSync(file, await format(updated, { ...config, filepath: file }));
  return true;
}
