import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRecord, repoPath } from './repo';

export const DASHBOARDS_DIR = repoPath('grafana/dashboards');

export interface DataSourceRef {
  type?: string;
  uid?: string;
}

export interface Target {
  refId: string;
  expr?: string;
  exemplar?: boolean;
  datasource?: DataSourceRef;
}

export interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: DataSourceRef;
  targets?: Target[];
  /** A collapsed row keeps its panels here. */
  panels?: Panel[];
}

export interface TemplateVariable {
  name: string;
  type: string;
  definition?: string;
  query?: unknown;
  datasource?: DataSourceRef;
}

export interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating?: { list: TemplateVariable[] };
}

export interface DashboardFile {
  file: string;
  dashboard: Dashboard;
}

/** Every dashboard JSON Grafana provisions, parsed; throws naming the file that is not a dashboard. */
export function loadDashboards(): DashboardFile[] {
  return readdirSync(DASHBOARDS_DIR)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => {
      const file = join('grafana/dashboards', name);
      const parsed: unknown = JSON.parse(readFileSync(join(DASHBOARDS_DIR, name), 'utf8'));
      if (!isRecord(parsed) || !Array.isArray(parsed['panels']) || typeof parsed['uid'] !== 'string') {
        throw new Error(`${file} is not a dashboard (no uid or panels)`);
      }
      return { file, dashboard: parsed as unknown as Dashboard };
    });
}

/** Every panel, rows' nested panels included. */
export function allPanels(dashboard: Dashboard): Panel[] {
  return dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
}

export interface PanelQuery {
  file: string;
  panel: Panel;
  target: Target;
  expr: string;
}

export function allQueries(dashboards: DashboardFile[]): PanelQuery[] {
  return dashboards.flatMap(({ file, dashboard }) =>
    allPanels(dashboard).flatMap((panel) =>
      (panel.targets ?? [])
        .filter((target) => typeof target.expr === 'string' && target.expr.trim() !== '')
        .map((target) => ({ file, panel, target, expr: target.expr as string })),
    ),
  );
}

/**
 * A panel expression as Grafana would send it: `$__rate_interval` and friends become durations, dashboard
 * variables their values. Throws on a variable it does not know, so a typo cannot pass as a query.
 */
export function expandVariables(expr: string, variables: Record<string, string>): string {
  const builtIns: Record<string, string> = {
    __rate_interval: '15s',
    __interval: '5s',
    __range: '1m',
  };
  const values = { ...builtIns, ...variables };
  return expr.replace(
    /\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)/g,
    (whole, a?: string, b?: string, c?: string) => {
      const name = a ?? b ?? c ?? '';
      const value = values[name];
      if (value === undefined) throw new Error(`unknown variable ${whole} in ${expr}`);
      return value;
    },
  );
}

/** Metric names an expression reads (the broker's own, the Node.js process's). */
export function metricNamesIn(expr: string): string[] {
  return [...new Set(expr.match(/\b(?:fluxmq|process|nodejs)_[a-zA-Z0-9_]+/g) ?? [])];
}

/**
 * The value Grafana gives a multi-value variable set to "All" inside a PromQL regex matcher: the values,
 * regex-escaped with the backslashes doubled for the PromQL string literal, joined by `|`.
 */
export function regexOfValues(values: string[]): string {
  const escaped = values.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\\\$&'));
  return escaped.length === 1 ? (escaped[0] ?? '') : `(${escaped.join('|')})`;
}
