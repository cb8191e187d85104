import { describe, expect, it } from 'vitest';
import { parseArgs } from '../src/cli';
import { loadFor, type ScenarioContext } from '../src/scenarios/scenario';

describe('bench options', () => {
  it('takes --scale as a whole number of at least 1, and defaults to 1', () => {
    expect(parseArgs([])).toMatchObject({ scale: 1 });
    expect(parseArgs(['--scale', '4'])).toMatchObject({ scale: 4 });
    expect(parseArgs(['--scale=2'])).toMatchObject({ scale: 2 });
    for (const bad of ['0', '1.5', 'x']) expect(() => parseArgs(['--scale', bad])).toThrow(/--scale/);
  });

  it('scales the amounts a scenario names, of the quick or the full load', () => {
    const loads = {
      full: { messages: 1000, maxSeconds: 10, batch: 16 },
      quick: { messages: 10, maxSeconds: 1, batch: 16 },
    };
    const ctx = (quick: boolean, scale: number) => ({ quick, scale }) as ScenarioContext;
    expect(loadFor(ctx(false, 3), loads, ['messages', 'maxSeconds'])).toEqual({
      messages: 3000,
      maxSeconds: 30,
      batch: 16,
    });
    expect(loadFor(ctx(true, 2), loads, ['messages'])).toEqual({ messages: 20, maxSeconds: 1, batch: 16 });
    expect(loads.full.messages).toBe(1000); // the scenario's own table is left alone
  });
});
