import { monitorEventLoopDelay } from 'node:perf_hooks';
import { describe, expect } from 'vitest';
import {
  FuzzFleet,
  PACKET_KINDS,
  connectClient,
  expectBrokerHealthy,
  fluxOnly,
  megabytes,
  planConnection,
  sampleMemory,
  sleep,
  startBroker,
  waitUntil,
  type ConnectionPlan,
  type ConnectionResult,
  type Outcome,
  type PacketKind,
  type TestBroker,
  type TestClient,
  warmGeneratorCache,
} from './support';

/**
 * FLUXMQ_FUZZ_PACKETS: how many random, mutated, hostile and out-of-order packets to throw (default 100,000;
 * the valid packets around them, CONNECTs and fillers, come on top). FLUXMQ_FUZZ_SEED: the run's seed
 * (decimal or 0x hex). The seed fixes every connection's bytes (see planConnection); it is in the test's name
 * and in every failure message.
 */
function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name}=${raw} is not a non-negative integer`);
  return value;
}

const PACKETS = envNumber('FLUXMQ_FUZZ_PACKETS', 100_000);
const SEED = envNumber('FLUXMQ_FUZZ_SEED', 0x5eed) >>> 0;
const REPRODUCE = `reproduce with FLUXMQ_FUZZ_SEED=${SEED} FLUXMQ_FUZZ_PACKETS=${PACKETS}`;

const CONNECT_TIMEOUT_MS = 500;
const TOPIC_ALIAS_MAXIMUM = 10;
/**
 * Past this the fuzzing stops and the test fails: a guard against a broker that stalls, not a speed test.
 * 100,000 packets take 10-20 s on 2 cores, but over 40 s on a slow CI machine that also runs the load
 * benchmark's tests next to this file; more packets get more time.
 */
const FUZZ_DEADLINE_MS = 90_000 * Math.max(1, PACKETS / 100_000);
/** Memory growth allowed over the run: the whole process (fuzz workers included), and the broker's isolate. */
const RSS_HEADROOM = 300 * 1024 * 1024;
const MAIN_HEADROOM = 150 * 1024 * 1024;

interface WellBehaved {
  subscriber: TestClient;
  publisher: TestClient;
  topic: string;
  /** Publishes numbered QoS 1 messages, each acknowledged before the next, until `stop`. */
  run(): { stop(): Promise<number> };
}

/** An MQTT.js 5.0 subscriber and 3.1.1 publisher at QoS 1 on a topic of their own. */
async function wellBehaved(broker: TestBroker): Promise<WellBehaved> {
  const topic = `wb/${SEED}/stream`;
  const subscriber = await connectClient(broker, { protocolVersion: 5, clientId: `wb-sub-${SEED}` });
  await subscriber.subscribe(topic, { qos: 1 });
  const publisher = await connectClient(broker, { protocolVersion: 4, clientId: `wb-pub-${SEED}` });
  const run = (): { stop(): Promise<number> } => {
    let published = 0;
    let publishing = true;
    let failure: unknown;
    const loop = (async () => {
      while (publishing) {
        await publisher.publish(topic, String(published), { qos: 1 });
        published++;
        await sleep(2);
      }
    })().catch((err: unknown) => {
      failure = err;
    });
    return {
      async stop() {
        publishing = false;
        await loop;
        // A publish that failed (no PUBACK within 5 s, connection lost) fails the test here.
        if (failure !== undefined)
          throw new Error(`message ${published} was not acknowledged`, { cause: failure });
        return published;
      },
    };
  };
  return { subscriber, publisher, topic, run };
}

describe('fuzz', () => {
  fluxOnly('checks the in-process engine: clients, sessions, memory')(
    `survives ${PACKETS} random, mutated and out-of-order packets on short-lived connections (seed ${SEED})`,
    async () => {
      // The broker runs in this process: an exception escaping it is an uncaught exception here.
      const uncaught: string[] = [];
      const onUncaught = (err: unknown): void => {
        uncaught.push(err instanceof Error ? (err.stack ?? err.message) : String(err));
      };
      process.on('uncaughtException', onUncaught);
      process.on('unhandledRejection', onUncaught);
      try {
        const broker = await startBroker({
          mqtt: {
            connectTimeoutMs: CONNECT_TIMEOUT_MS,
            topicAliasMaximum: TOPIC_ALIAS_MAXIMUM,
            // Fuzz connections ask for persistent sessions: they expire soon, so the end state can be checked,
            // and queue little meanwhile (hundreds of them subscribe to '#' and then go offline at any time).
            maxSessionExpiryInterval: 1,
            maxQueuedMessages: 100,
          },
        });
        const engine = broker.engine;
        if (!engine) throw new Error('FluxMQ mode exposes the engine');
        const good = await wellBehaved(broker);
        warmGeneratorCache();

        const start = sampleMemory();
        const peak = { ...start };
        const sampler = setInterval(() => {
          const now = sampleMemory();
          peak.rss = Math.max(peak.rss, now.rss);
          peak.main = Math.max(peak.main, now.main);
        }, 1000);
        // The broker's event loop (this thread's): how far behind it fell explains a late close.
        const loopDelay = monitorEventLoopDelay({ resolution: 10 });
        loopDelay.enable();
        const stream = good.run();

        const kinds: Record<PacketKind, number> = {
          valid: 0,
          mutated: 0,
          random: 0,
          hostile: 0,
          sequence: 0,
        };
        const outcomes = new Map<Outcome, number>();
        const violations: string[] = [];
        let fuzzed = 0;
        let connections = 0;
        const started = Date.now();
        const planOptions = { connectTimeoutMs: CONNECT_TIMEOUT_MS, topicAliasMaximum: TOPIC_ALIAS_MAXIMUM };
        const next = (): ConnectionPlan | undefined => {
          if (fuzzed >= PACKETS || Date.now() - started > FUZZ_DEADLINE_MS) return undefined;
          const plan = planConnection(SEED, connections++, planOptions);
          for (const kind of PACKET_KINDS) {
            kinds[kind] += plan.kinds[kind];
            if (kind !== 'valid') fuzzed += plan.kinds[kind];
          }
          return plan;
        };
        const onResult = (plan: ConnectionPlan, result: ConnectionResult): void => {
          outcomes.set(result.outcome, (outcomes.get(result.outcome) ?? 0) + 1);
          // The broker must close a connection we half-closed, and one that never sent CONNECT; it must
          // accept every connection, and send only well-formed server packets in a legal order.
          const wrong =
            !result.connected ||
            result.problem !== undefined ||
            result.outcome === 'fin-timeout' ||
            result.outcome === 'linger-timeout' ||
            result.outcome === 'hard-timeout';
          if (wrong && violations.length < 20) {
            const problem = result.problem ? `; the broker sent ${result.problem}` : '';
            const late = result.lateMs !== undefined ? ` (judged ${result.lateMs} ms late)` : '';
            violations.push(
              `connection ${plan.id} (${plan.end}): ${result.outcome}${late} ${result.error ?? ''}${problem}`,
            );
          }
        };
        const fleet = new FuzzFleet(broker, {
          workers: 1,
          concurrency: 128,
          finTimeoutMs: 3000,
          hardTimeoutMs: 15000,
        });
        await fleet.run(next, onResult);
        const fuzzMs = Date.now() - started;
        await fleet.close();
        const published = await stream.stop();
        clearInterval(sampler);
        loopDelay.disable();

        const causes = JSON.stringify(Object.fromEntries(engine.stats.disconnects));
        const summary =
          `seed ${SEED}: ${fuzzed} fuzzed packets (${PACKET_KINDS.map((k) => `${k} ${kinds[k]}`).join(', ')}) ` +
          `on ${connections} connections in ${fuzzMs} ms; outcomes ${JSON.stringify(Object.fromEntries(outcomes))}; ` +
          `broker disconnect causes ${causes}; ${published} well-behaved messages; ` +
          `peak rss +${megabytes(peak.rss - start.rss)} MB, broker isolate +${megabytes(peak.main - start.main)} MB; ` +
          `broker event loop delay p99 ${Math.round(loopDelay.percentile(99) / 1e6)} ms, ` +
          `max ${Math.round(loopDelay.max / 1e6)} ms`;
        console.log(summary);
        const context = `${summary}; ${REPRODUCE}`;

        expect(uncaught, context).toEqual([]);
        expect(
          fuzzed,
          `fuzzing stopped at the ${FUZZ_DEADLINE_MS} ms deadline; ${context}`,
        ).toBeGreaterThanOrEqual(PACKETS);
        expect(violations, context).toEqual([]);

        // Every numbered message arrived exactly once and in order, and neither client was disconnected.
        const { subscriber, publisher, topic } = good;
        await waitUntil(() => subscriber.messagesOn(topic).length >= published, 10_000, 'the stream').catch(
          () => {},
        );
        const received = subscriber.messagesOn(topic);
        expect(received.length, context).toBe(published);
        expect(
          received.map((m) => m.text),
          context,
        ).toEqual(Array.from({ length: published }, (_, i) => String(i)));
        expect(received.filter((m) => m.packet.dup).length, context).toBe(0);
        for (const client of [subscriber, publisher]) {
          expect(client.closed, context).toBe(false);
          expect(client.disconnectPacket, context).toBeUndefined();
          expect(client.errors.map(String), context).toEqual([]);
          expect(client.received.filter((p) => p.cmd === 'connack').length, context).toBe(1);
        }

        // Nothing left behind: the two well-behaved clients, their sessions and the one subscription.
        await waitUntil(() => engine.clients.size === 2, 5000, 'fuzz clients to go').catch(() => {});
        expect(engine.clients.size, context).toBe(2);
        expect(engine.stats.clientsConnected, context).toBe(2);
        await waitUntil(() => engine.sessions.size === 2, 5000, 'fuzz sessions to expire').catch(() => {});
        expect([...engine.sessions.keys()].sort(), context).toEqual([`wb-pub-${SEED}`, `wb-sub-${SEED}`]);
        expect(engine.subscriptions.size, context).toBe(1);

        const end = sampleMemory();
        expect(megabytes(peak.rss - start.rss), context).toBeLessThan(megabytes(RSS_HEADROOM));
        expect(megabytes(end.rss - start.rss), context).toBeLessThan(megabytes(RSS_HEADROOM));
        expect(megabytes(peak.main - start.main), context).toBeLessThan(megabytes(MAIN_HEADROOM));

        await expectBrokerHealthy(broker);
        expect(uncaught, context).toEqual([]);
      } finally {
        process.off('uncaughtException', onUncaught);
        process.off('unhandledRejection', onUncaught);
      }
    },
    FUZZ_DEADLINE_MS + 50_000,
  );
});
