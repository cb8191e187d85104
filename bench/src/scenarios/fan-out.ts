import { performance } from 'node:perf_hooks';
import { startCpu, waitForCompletion } from '../measure';
import { PUBLISH, publishBatch, publishTemplate } from '../packets';
import { RawClient, connectMany } from '../raw-client';
import { loadFor, type Scenario } from './scenario';
import { coalesced, ratio, throughputMetrics } from './throughput';

const LOAD = {
  full: { messages: 50_000, maxSeconds: 15 },
  quick: { messages: 1_000, maxSeconds: 5 },
};
const SUBSCRIBERS = 200;
const PAYLOAD = 64;
const BATCH = 16;
/**
 * How far the publisher may run ahead of the slowest subscriber (~40 KB per subscriber socket). Bounding
 * by the slowest one, not the average, keeps every subscriber's backlog under the brokers' per-socket
 * limits, so nothing is dropped for being slow.
 */
const WINDOW = 512;

export const fanOut: Scenario = {
  name: 'fan-out',
  title: `QoS 0 fan-out 1→${SUBSCRIBERS}`,
  async run(ctx) {
    const load = loadFor(ctx, LOAD, ['messages', 'maxSeconds']);
    const { host, port, pool } = ctx;
    const topic = 'bench/out';
    const subscribers = await connectMany(
      SUBSCRIBERS,
      50,
      (i) => ({ host, port, clientId: `bench-out-sub-${i}` }),
      pool,
    );
    await Promise.all(subscribers.map((s) => s.subscribe(topic, 0)));
    const publisher = await RawClient.connect({ host, port, clientId: 'bench-out-pub' }, pool);
    const template = publishTemplate(topic, PAYLOAD, 0);
    const batch = publishBatch(template, BATCH);

    const counts = new Float64Array(SUBSCRIBERS);
    let target = load.messages;
    let sent = 0;
    let delivered = 0;
    let startAt = 0;
    let lastAt = 0;

    const slowest = (): number => {
      let min = Infinity;
      for (let i = 0; i < SUBSCRIBERS; i++) if (counts[i] < min) min = counts[i];
      return min;
    };
    const fill = (): void => {
      if (performance.now() - startAt > load.maxSeconds * 1000) target = sent;
      const floor = slowest();
      while (sent < target) {
        const count = Math.min(BATCH, target - sent);
        if (sent - floor + count > WINDOW) break;
        publisher.write(count === BATCH ? batch : batch.subarray(0, count * template.bytes.length));
        sent += count;
      }
    };
    const refill = coalesced(fill);
    subscribers.forEach((subscriber, i) => {
      subscriber.onPacket = (type) => {
        if (type !== PUBLISH) return;
        counts[i]++;
        delivered++;
        lastAt = performance.now();
        refill();
      };
    });

    const cpu = startCpu(ctx.pid);
    startAt = performance.now();
    fill();
    const end = await waitForCompletion({
      isDone: () => sent === target && delivered >= sent * SUBSCRIBERS,
      progress: () => delivered,
      stallMs: 3000,
      deadline: ctx.deadline,
    });
    const { brokerCpuSeconds } = cpu.stop();
    const expected = sent * SUBSCRIBERS;
    const wallSeconds = ((delivered > 0 ? lastAt : performance.now()) - startAt) / 1000;
    ctx.log(
      `published ${sent}, deliveries ${delivered}/${expected} (${(ratio(delivered, expected) * 100).toFixed(2)}%)`,
    );
    return {
      sent,
      expected,
      delivered,
      wallSeconds,
      brokerCpuSeconds,
      end,
      load: { ...load, subscribers: SUBSCRIBERS, payload: PAYLOAD, batch: BATCH, window: WINDOW },
      metrics: throughputMetrics('deliveries', delivered, expected, wallSeconds, brokerCpuSeconds),
    };
  },
};
