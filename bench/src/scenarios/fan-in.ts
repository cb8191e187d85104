import { performance } from 'node:perf_hooks';
import { startCpu, waitForCompletion } from '../measure';
import { PUBLISH, publishBatch, publishTemplate } from '../packets';
import { RawClient, connectMany } from '../raw-client';
import { loadFor, type Scenario } from './scenario';
import { coalesced, ratio, throughputMetrics } from './throughput';

const LOAD = {
  full: { messages: 5_000_000, maxSeconds: 15 },
  quick: { messages: 60_000, maxSeconds: 5 },
};
// The load's shape; the sampling mode (--sampling-phases) runs the same one without an end.
export const PUBLISHERS = 20;
export const PAYLOAD = 64;
export const BATCH = 64;
/**
 * Messages published but not yet delivered, across all publishers (~600 KB). Enough to keep any broker
 * busy, small enough that no broker has to drop QoS 0 for a slow consumer (FluxMQ's default per-socket
 * outbound limit is 1 MiB), so the delivery ratio shows loss rather than back-pressure policy.
 */
export const WINDOW = 8192;

export const fanIn: Scenario = {
  name: 'fan-in',
  title: `QoS 0 fan-in ${PUBLISHERS}→1`,
  async run(ctx) {
    const load = loadFor(ctx, LOAD, ['messages', 'maxSeconds']);
    const { host, port, pool } = ctx;
    const subscriber = await RawClient.connect({ host, port, clientId: 'bench-in-sub' }, pool);
    await subscriber.subscribe('bench/in/+', 0);
    const publishers = await connectMany(
      PUBLISHERS,
      PUBLISHERS,
      (i) => ({ host, port, clientId: `bench-in-pub-${i}` }),
      pool,
    );
    const templates = publishers.map((_, i) => publishTemplate(`bench/in/${i}`, PAYLOAD, 0));
    const batches = templates.map((t) => publishBatch(t, BATCH));

    let target = load.messages;
    let sent = 0;
    let received = 0;
    let next = 0;
    let startAt = 0;
    let lastAt = 0;

    const fill = (): void => {
      if (performance.now() - startAt > load.maxSeconds * 1000) target = sent;
      while (sent < target) {
        const count = Math.min(BATCH, target - sent);
        if (sent - received + count > WINDOW) break;
        const i = next;
        next = (next + 1) % PUBLISHERS;
        const batch = batches[i];
        publishers[i].write(count === BATCH ? batch : batch.subarray(0, count * templates[i].bytes.length));
        sent += count;
      }
    };
    const refill = coalesced(fill);
    subscriber.onPacket = (type) => {
      if (type !== PUBLISH) return;
      received++;
      lastAt = performance.now();
      refill();
    };

    const cpu = startCpu(ctx.pid);
    startAt = performance.now();
    fill();
    const end = await waitForCompletion({
      isDone: () => sent === target && received >= sent,
      progress: () => received,
      stallMs: 3000,
      deadline: ctx.deadline,
    });
    const { brokerCpuSeconds } = cpu.stop();
    const wallSeconds = ((received > 0 ? lastAt : performance.now()) - startAt) / 1000;
    ctx.log(`sent ${sent}, received ${received} (${(ratio(received, sent) * 100).toFixed(2)}%)`);
    return {
      sent,
      expected: sent,
      delivered: received,
      wallSeconds,
      brokerCpuSeconds,
      end,
      load: { ...load, publishers: PUBLISHERS, payload: PAYLOAD, batch: BATCH, window: WINDOW },
      metrics: throughputMetrics('msgs', received, sent, wallSeconds, brokerCpuSeconds),
    };
  },
};
