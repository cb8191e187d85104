// Reading the Prometheus text format and OpenMetrics that GET /metrics serves.

/**
 * The series names a scrape of `text` can produce, from its `# TYPE` lines: a counter `x` gives `x_total`
 * (OpenMetrics names the family without the suffix, the text format with it), a histogram `x` gives
 * `x_bucket`, `x_sum` and `x_count`, a summary `x`, `x_sum` and `x_count`. A family is listed even before
 * its first sample, so a label set not seen yet still names a valid series.
 */
export function exposedSeriesNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const match = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+)/.exec(line);
    if (!match) continue;
    const [, name, type] = match as unknown as [string, string, string];
    switch (type) {
      case 'counter':
        names.add(name.endsWith('_total') ? name : `${name}_total`);
        break;
      case 'histogram':
      case 'gaugehistogram':
        for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
        break;
      case 'summary':
        for (const suffix of ['', '_sum', '_count']) names.add(name + suffix);
        break;
      default:
        names.add(name);
    }
  }
  return names;
}

export interface Exemplar {
  /** The sample line's series name, e.g. fluxmq_delivery_latency_seconds_bucket. */
  series: string;
  labels: Record<string, string>;
}

/** Exemplars (OpenMetrics: `series{...} value # {label="value"} value [timestamp]`) in a scrape. */
export function exemplarsIn(text: string): Exemplar[] {
  const out: Exemplar[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{.*?\})?\s+\S+(?:\s+\S+)?\s+#\s+\{(.*?)\}/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1] ?? ''] = pair[2] ?? '';
    }
    out.push({ series: match[1] ?? '', labels });
  }
  return out;
}
