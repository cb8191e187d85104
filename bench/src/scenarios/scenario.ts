import type { ClientPool } from '../raw-client';
import type { ScenarioName, ScenarioOutcome } from '../types';

export interface ScenarioContext {
  host: string;
  port: number;
  /** Broker process id, for /proc CPU and memory readings. */
  pid: number;
  quick: boolean;
  /** Every client must be opened through this pool so run.ts can close them whatever happens. */
  pool: ClientPool;
  /** Absolute time (Date.now()) when the scenario must stop and report what it has. */
  deadline: number;
  /** Connections the idle-memory scenario may open within the process's open-files limit. */
  maxConnections: number;
  log: (message: string) => void;
}

export interface Scenario {
  name: ScenarioName;
  title: string;
  run(ctx: ScenarioContext): Promise<ScenarioOutcome>;
}
