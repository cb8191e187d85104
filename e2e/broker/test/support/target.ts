import { it } from 'vitest';

/**
 * Which broker the suite runs against. The default is FluxMQ itself (in-process through @fluxmq/server);
 * FLUXMQ_E2E_TARGET=mosquitto runs the very same tests against a spawned Mosquitto 2.0 to prove that the
 * tests encode the MQTT specification rather than FluxMQ's own reading of it.
 */
export type Target = 'fluxmq' | 'mosquitto';

export const TARGET: Target = process.env['FLUXMQ_E2E_TARGET'] === 'mosquitto' ? 'mosquitto' : 'fluxmq';
export const isMosquitto = TARGET === 'mosquitto';

type TestBody = () => Promise<void> | void;

/** `it`, or `it.skip` with the reason appended to the name in mosquitto mode; `.each` works the same way. */
export interface ConditionalTest {
  (name: string, body: TestBody, timeout?: number): void;
  each<T extends unknown[]>(
    cases: readonly T[],
  ): (name: string, body: (...args: T) => Promise<void> | void, timeout?: number) => void;
}

function skippedOnMosquitto(label: string, reason: string, skip: boolean): ConditionalTest {
  const suffix = ` [${label}: ${reason}]`;
  const test = (name: string, body: TestBody, timeout?: number): void => {
    if (skip) it.skip(`${name}${suffix}`, body, timeout);
    else it(isMosquitto ? `${name}${suffix}` : name, body, timeout);
  };
  test.each =
    <T extends unknown[]>(cases: readonly T[]) =>
    (name: string, body: (...args: T) => Promise<void> | void, timeout?: number): void => {
      if (skip) it.skip.each<T>(cases)(`${name}${suffix}`, body, timeout);
      else it.each<T>(cases)(isMosquitto ? `${name}${suffix}` : name, body, timeout);
    };
  return test;
}

/**
 * A test of FluxMQ-only behaviour or of configuration Mosquitto cannot express; skipped in mosquitto mode.
 * The reason is appended to the skipped test's name so the run report says why.
 */
export function fluxOnly(reason: string): ConditionalTest {
  return skippedOnMosquitto('FluxMQ only', reason, isMosquitto);
}

/**
 * A test of behaviour the specification requires (or that FluxMQ chose among the options the specification
 * allows) where Mosquitto 2.0 does something else; skipped in mosquitto mode. FLUXMQ_E2E_RUN_DEVIATIONS=1
 * runs them anyway, to check that they still fail there (i.e. the deviation is real, or has been fixed).
 */
export function mosquittoDeviates(reason: string): ConditionalTest {
  return skippedOnMosquitto(
    'Mosquitto deviates',
    reason,
    isMosquitto && !process.env['FLUXMQ_E2E_RUN_DEVIATIONS'],
  );
}
