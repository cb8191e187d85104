import { performance } from 'node:perf_hooks';
import { startCpu, waitForCompletion } from '../measure';
import { PUBACK, PUBLISH, publishIdOffset, publishTemplate } from '../packets';
import { RawClient, connectMany } from '../raw-client';
import type { Scenario } from './scenario';
import { coalesced, throughputMetrics } from './throughput';

const LOAD = {
  full: { messages: 500_000, maxSeconds: 15 },
  quick: { messages: 10_000, maxSeconds: 5 },
};
const PUBLISHERS = 10;
const PAYLOAD = 64;
/** Unacknowledged QoS 1 publishes per publisher. */
const WINDOW = 50;
/** Messages published but not yet acknowledged by the subscriber, so the run measures flow, not a queue. */
const END_TO_END = PUBLISHERS * WINDOW;

/**
 * QoS 1 to a subscriber with a persistent session (clean session 0): the case where a broker that keeps
 * its promise "acknowledged means stored" must write each message before its PUBACK. FluxMQ by default
 * commits to SQLite first (persistence.durability: commit); Aedes keeps the session in memory; Mosquitto
 * writes its database only on its autosave interval or at shutdown.
 */
export const persistentQos1: Scenario = {
  name: 'persistent-qos1',
  title: `QoS 1 to a persistent session ${PUBLISHERS}→1`,
  async run(ctx) {
    const load = ctx.quick ? LOAD.quick : LOAD.full;
    const { host, port, pool } = ctx;
    const subscriber = await RawClient.connect({ host, port, clientId: 'bench-ps-sub', clean: false }, pool);
    await subscriber.subscribe('bench/ps/+', 1);
    const publishers = await connectMany(
      PUBLISHERS,
      PUBLISHERS,
      (i) => ({ host, port, clientId: `bench-ps-pub-${i}` }),
      pool,
    );
    const templates = publishers.map((_, i) => publishTemplate(`bench/ps/${i}`, PAYLOAD, 1));

    let target = load.messages;
    let sent = 0;
    let acked = 0;
    let received = 0;
    let startAt = 0;
    let lastAt = 0;
    const inflight = new Array<number>(PUBLISHERS).fill(0);
    const nextId = new Array<number>(PUBLISHERS).fill(0);

    const fill = (i: number): void => {
      if (performance.now() - startAt > load.maxSeconds * 1000) target = sent;
      const count = Math.min(WINDOW - inflight[i], target - sent, END_TO_END - (sent - received));
      if (count <= 0) return;
      const template = templates[i];
      const size = template.bytes.length;
      const out = Buffer.allocUnsafe(count * size);
      for (let k = 0; k < count; k++) {
        template.bytes.copy(out, k * size);
        nextId[i] = (nextId[i] % 65535) + 1;
        out.writeUInt16BE(nextId[i], k * size + template.idOffset);
      }
      publishers[i].write(out);
      inflight[i] += count;
      sent += count;
    };
    let first = 0;
    const fillAll = coalesced(() => {
      first = (first + 1) % PUBLISHERS;
      for (let k = 0; k < PUBLISHERS; k++) fill((first + k) % PUBLISHERS);
    });
    publishers.forEach((publisher, i) => {
      publisher.onPacket = (type) => {
        if (type !== PUBACK) return;
        inflight[i]--;
        acked++;
        lastAt = performance.now();
        fill(i);
      };
    });
    subscriber.onPacket = (type, _flags, buf, body) => {
      if (type !== PUBLISH) return;
      subscriber.ack(PUBACK, buf.readUInt16BE(publishIdOffset(buf, body)));
      received++;
      lastAt = performance.now();
      fillAll();
    };

    const cpu = startCpu(ctx.pid);
    startAt = performance.now();
    for (let i = 0; i < PUBLISHERS; i++) fill(i);
    const end = await waitForCompletion({
      isDone: () => sent === target && acked >= sent && received >= sent,
      progress: () => acked + received,
      stallMs: 3000,
      deadline: ctx.deadline,
    });
    const { brokerCpuSeconds } = cpu.stop();
    const wallSeconds = ((lastAt > 0 ? lastAt : performance.now()) - startAt) / 1000;
    ctx.log(`sent ${sent}, acknowledged ${acked}, received ${received}`);
    return {
      sent,
      expected: sent,
      delivered: received,
      wallSeconds,
      brokerCpuSeconds,
      end,
      load: { ...load, publishers: PUBLISHERS, payload: PAYLOAD, window: WINDOW, endToEnd: END_TO_END },
      metrics: throughputMetrics('msgs', received, sent, wallSeconds, brokerCpuSeconds),
    };
  },
};
