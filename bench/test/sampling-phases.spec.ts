import { describe, expect, it } from 'vitest';
import { pairedChanges, phaseRatios, type Phase } from '../src/sampling-phases';

const phase = (ratio: number, perCpu: number | null): Phase => ({
  ratio,
  messages: 1000,
  brokerCpuSeconds: 1,
  perCpu,
});

describe('sampling phases', () => {
  it('puts every measured phase between two baseline ones', () => {
    expect(phaseRatios([0, 0.01], 3)).toEqual([0, 0.01, 0, 0.01, 0, 0.01, 0]);
    expect(phaseRatios([0.01, 1], 1)).toEqual([0.01, 1, 0.01]);
  });

  it('compares each measured phase with the mean of its neighbours, so a steady drift cancels out', () => {
    // The machine slows down by 10% a phase; the measured ratio costs 5% on top.
    const phases = [0, 1, 2, 3, 4].map((i) =>
      phase(i % 2 ? 0.01 : 0, 1000 * (1 - 0.1 * i) * (i % 2 ? 0.95 : 1)),
    );
    const changes = pairedChanges(phases);
    expect(changes).toHaveLength(2);
    for (const c of changes) expect(c).toBeCloseTo(-0.05, 10);
  });

  it('leaves out a pair whose phases have no reading', () => {
    const phases = [phase(0, 1000), phase(0.01, null), phase(0, 1000), phase(0.01, 900), phase(0, 1000)];
    expect(pairedChanges(phases)).toEqual([-0.1]);
  });
});
