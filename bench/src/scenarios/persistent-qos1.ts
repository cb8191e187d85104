import { performance } from 'node:perf_hooks';
import { startCpu, waitForCompletion } from '../measure';
import { PUBACK, PUBLISH, publishIdOffset, publishTemplate } from '../packets';
import { RawClient, connectMany } from '../raw-client';
import { loadFor, type Scenario } from './scenario';
import { throughputMetrics } from './throughput';
import { WindowedPublishers } from './windowed-publishers';

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
    const load = loadFor(ctx, LOAD, ['messages', 'maxSeconds']);
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

    let received = 0;
    let lastAt = 0;
    const windowed = new WindowedPublishers(publishers, templates, {
      window: WINDOW,
      endToEnd: END_TO_END,
      messages: load.messages,
      maxSeconds: load.maxSeconds,
      through: () => received,
    });
    publishers.forEach((publisher, i) => {
      publisher.onPacket = (type) => {
        if (type !== PUBACK) return;
        lastAt = performance.now();
        windowed.acked(i);
      };
    });
    subscriber.onPacket = (type, _flags, buf, body) => {
      if (type !== PUBLISH) return;
      subscriber.ack(PUBACK, buf.readUInt16BE(publishIdOffset(buf, body)));
      received++;
      lastAt = performance.now();
      windowed.fillAll();
    };

    const cpu = startCpu(ctx.pid);
    const startAt = performance.now();
    windowed.start();
    const end = await waitForCompletion({
      isDone: () => windowed.done && received >= windowed.sent,
      progress: () => windowed.acknowledged + received,
      stallMs: 3000,
      deadline: ctx.deadline,
    });
    const { brokerCpuSeconds } = cpu.stop();
    const wallSeconds = ((lastAt > 0 ? lastAt : performance.now()) - startAt) / 1000;
    const { sent } = windowed;
    ctx.log(`sent ${sent}, acknowledged ${windowed.acknowledged}, received ${received}`);
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
