import { perSecond } from '../measure';
import type { Metric } from '../types';

/** The rows every throughput scenario reports, so the table reads the same for each of them. */
export function throughputMetrics(
  unit: string,
  delivered: number,
  expected: number,
  wallSeconds: number,
  brokerCpuSeconds: number,
): Metric[] {
  return [
    {
      key: 'rate',
      label: `${unit}/s`,
      better: 'higher',
      format: 'count',
      value: perSecond(delivered, wallSeconds),
    },
    {
      key: 'perCpu',
      label: `${unit} per broker CPU-s`,
      better: 'higher',
      format: 'count',
      value: perSecond(delivered, brokerCpuSeconds),
    },
    {
      key: 'deliveryRatio',
      label: 'delivery ratio',
      better: 'higher',
      format: 'percent',
      value: ratio(delivered, expected),
    },
  ];
}

export function ratio(delivered: number, expected: number): number {
  return expected > 0 ? delivered / expected : 0;
}

/**
 * Runs `fn` at most once per event-loop turn. Publishers are refilled from here rather than from every
 * packet handler, so a burst of 1000 received packets costs one refill, not 1000.
 */
export function coalesced(fn: () => void): () => void {
  let scheduled = false;
  const run = (): void => {
    scheduled = false;
    fn();
  };
  return () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(run);
  };
}
