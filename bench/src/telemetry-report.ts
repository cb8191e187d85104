import { formatValue } from './report';
import { INTERVAL_COVERAGE, summarize, verdicts, type Summary, type TelemetryReport } from './telemetry';

/** Where the telemetry table goes in docs/benchmarks.md ("Cost of telemetry"). */
export const TELEMETRY_MARKERS = {
  start: '<!-- bench:telemetry:start -->',
  end: '<!-- bench:telemetry:end -->',
};

const HEADER = [
  'Scenario',
  'Metric',
  'Configuration',
  'Median',
  'Min–max',
  'vs off',
  'vs metrics',
  'Spans exported',
  'Spans dropped',
  'Traces shed',
];

const FOOTNOTE =
  'Median and range over the rounds; changes are of the median, against "metrics off, tracing off" and ' +
  'against "metrics on"; ↑ higher is better, ↓ lower is better. Spans: medians of the broker’s counters ' +
  'read right after each run (spans still waiting for a batch are in none of them). ' +
  '* a round stalled, hit its time limit or failed: counts are partial. ' +
  '† other processes used noticeable CPU during a round (otherCpuSeconds in the JSON).';

/** A relative change as a signed percentage, e.g. "−9.6%". */
export function formatChange(change: number | null): string {
  if (change === null || !Number.isFinite(change)) return '–';
  const percent = (change * 100).toFixed(1);
  return change < 0 ? `−${percent.slice(1)}%` : `+${percent}%`;
}

function count(value: number | null | undefined): string {
  return value === null || value === undefined ? '–' : Math.round(value).toLocaleString('en-US');
}

function cells(s: Summary, titles: Record<string, string>): string[] {
  const value = (v: number | null): string => formatValue({ format: s.metric.format, value: v });
  // Marks keep a partial (stalled, timed out) or disturbed round from passing as a clean one.
  const marks = (s.partial ? '*' : '') + (s.disturbed ? '†' : '');
  return [
    titles[s.scenario] ?? s.scenario,
    `${s.metric.label} ${s.metric.better === 'higher' ? '↑' : '↓'}`,
    s.config.label,
    value(s.median) + marks,
    s.min === null || s.max === null ? '–' : `${value(s.min)}–${value(s.max)}`,
    s.config.key === 'off' ? '' : formatChange(s.vsOff),
    s.config.key === 'off' || s.config.key === 'metrics' ? '' : formatChange(s.vsMetrics),
    s.spans ? count(s.spans.exported) : '',
    s.spans ? count(s.spans.dropped) : '',
    s.spans ? count(s.spans.shed) : '',
  ];
}

/** The targets of the product issue and whether this run shows them met. */
export function targetLine(report: TelemetryReport, titles: Record<string, string>): string {
  const judged = verdicts(report);
  const intro =
    'Targets (product issue): metrics + 1% sampling costs under 10% of throughput, metrics + 100% sampling ' +
    'under 35%. Judged per broker CPU-second on the median of the rounds’ changes against metrics off, ' +
    'tracing off in the same round, with the interval that holds the true median with at least ' +
    `${INTERVAL_COVERAGE * 100}% probability (from the rounds’ order alone; 5 rounds at least): met when ` +
    'all of it is within the target, missed when all of it is beyond, not shown otherwise';
  if (judged.length === 0) return `${intro}: no throughput scenario in this run.`;
  const scenarios = [...new Set(judged.map((v) => v.scenario))].map((scenario) => {
    const parts = judged
      .filter((v) => v.scenario === scenario)
      .map((v) => {
        const label = v.config === 'sample-1' ? '1%' : '100%';
        const interval = v.interval
          ? `${formatChange(v.interval.low)} to ${formatChange(v.interval.high)}, `
          : '';
        return `${label} ${formatChange(v.change)} (${interval}${v.outcome})`;
      });
    return `${titles[scenario] ?? scenario}: ${parts.join(', ')}`;
  });
  return `${intro}. ${scenarios.join('; ')}.`;
}

export function telemetryText(report: TelemetryReport, titles: Record<string, string>): string {
  const summaries = summarize(report);
  const body = summaries.map((s) => cells(s, titles));
  const widths = HEADER.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (r: string[]): string =>
    r
      .map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [
    line(HEADER),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...body.map(line),
    '',
    targetLine(report, titles),
    '',
    FOOTNOTE,
  ].join('\n');
}

export function telemetryMarkdown(report: TelemetryReport, titles: Record<string, string>): string {
  const summaries = summarize(report);
  const line = (r: string[]): string => `| ${r.join(' | ')} |`;
  const m = report.machine;
  const o = report.options;
  const extra = Object.entries(o.extraEnv).map(([key, value]) => `${key}=${value}`);
  return [
    `Measured ${m.date.slice(0, 10)} on ${m.cpuModel} (${m.cores} cores, ${m.memoryMb} MB), ${m.os}, ` +
      `Node ${m.node}, FluxMQ ${m.fluxmq}: ${o.rounds} round${o.rounds === 1 ? '' : 's'}, the ` +
      `${report.configurations.length} configurations interleaved in each` +
      `${o.scale > 1 ? `, loads ×${o.scale}` : ''}` +
      `${o.warmUp ? `, each broker warmed up by the same load ×${o.warmUp} first` : ''}` +
      `${o.scrapeSeconds ? `, /metrics scraped every ${o.scrapeSeconds} s with metrics on` : ''}` +
      `${extra.length > 0 ? `, BENCH_FLUXMQ_ENV=${extra.join(',')}` : ''}` +
      `${o.quick ? ' — quick mode, not representative' : ''}.`,
    '',
    line(HEADER),
    line(HEADER.map((_, i) => (i < 3 ? '---' : '---:'))),
    ...summaries.map((s) => line(cells(s, titles))),
    '',
    targetLine(report, titles),
    '',
    FOOTNOTE,
  ].join('\n');
}
