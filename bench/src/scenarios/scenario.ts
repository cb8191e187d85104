import type { ClientPool } from '../raw-client';
import type { ScenarioName, ScenarioOutcome } from '../types';

export interface ScenarioContext {
  host: string;
  port: number;
  /** Broker process id, for /proc CPU and memory readings. */
  pid: number;
  quick: boolean;
  /** How many times the usual load to run (--scale). */
  scale: number;
  /** Every client must be opened through this pool so run.ts can close them whatever happens. */
  pool: ClientPool;
  /** Absolute time (Date.now()) when the scenario must stop and report what it has. */
  deadline: number;
  /** Connections the idle-memory scenario may open within the process's open-files limit. */
  maxConnections: number;
  log: (message: string) => void;
}

/** The scenario's quick or full load, with the `scaled` amounts multiplied by --scale. */
export function loadFor<T extends Record<string, number>>(
  ctx: ScenarioContext,
  loads: { full: T; quick: T },
  scaled: readonly (keyof T)[],
): T {
  const load = { ...(ctx.quick ? loads.quick : loads.full) };
  for (const key of scaled) (load as Record<keyof T, number>)[key] = load[key] * ctx.scale;
  return load;
}

export interface Scenario {
  name: ScenarioName;
  title: string;
  run(ctx: ScenarioContext): Promise<ScenarioOutcome>;
}
