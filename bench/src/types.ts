export const BROKERS = ['fluxmq', 'aedes', 'mosquitto'] as const;
export type BrokerName = (typeof BROKERS)[number];

export const SCENARIOS = [
  'fan-in',
  'fan-out',
  'qos1-latency',
  'qos2-throughput',
  'persistent-qos1',
  'idle-memory',
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface Metric {
  key: string;
  label: string;
  better: 'higher' | 'lower';
  format: 'count' | 'percent' | 'decimal';
  /** null when the value cannot be computed, e.g. the broker used less CPU than one clock tick. */
  value: number | null;
}

/** What a scenario measured; run.ts adds broker name, CPU of the load generator and errors. */
export interface ScenarioOutcome {
  /** Messages (or connections) the load generator produced. */
  sent: number;
  /** What the subscribers should receive if nothing is lost: sent x subscribers. */
  expected: number;
  delivered: number;
  wallSeconds: number;
  brokerCpuSeconds: number;
  /** 'stalled' or 'timeout' means the counts are partial. */
  end: 'done' | 'stalled' | 'timeout';
  metrics: Metric[];
  /** The load's parameters, so a JSON report says what produced its numbers. */
  load: Record<string, number>;
}

export interface ScenarioResult extends ScenarioOutcome {
  scenario: ScenarioName;
  broker: BrokerName;
  deliveryRatio: number;
  generatorCpuSeconds: number;
  /** Machine CPU time used by neither the broker nor the generator: interference from other work. */
  otherCpuSeconds: number;
  stealSeconds: number;
  /** Other processes or the hypervisor took enough CPU to shift the numbers. */
  disturbed: boolean;
  /** Scrapes of the broker's /metrics answered during the load (the telemetry mode's `--scrape`). */
  metricsScrapes?: number;
  /** The broker's own counters after the load (see RunningBroker.counters). */
  brokerCounters?: Record<string, number>;
  error?: string;
}

export interface BrokerStatus {
  name: BrokerName;
  label: string;
  status: 'ran' | 'skipped' | 'not-selected';
  reason?: string;
  version?: string;
}

export interface MachineInfo {
  date: string;
  cpuModel: string;
  cores: number;
  memoryMb: number;
  os: string;
  node: string;
  mosquitto: string;
  aedes: string;
  fluxmq: string;
  openFilesLimit: number;
}

export interface BenchReport {
  machine: MachineInfo;
  options: { quick: boolean; scale?: number; brokers: BrokerName[]; scenarios: ScenarioName[] };
  brokers: BrokerStatus[];
  results: ScenarioResult[];
}
