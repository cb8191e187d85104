import { performance } from 'node:perf_hooks';
import { startCpu, waitForCompletion } from '../measure';
import { PUBCOMP, PUBLISH, PUBREC, PUBREL, publishIdOffset, publishTemplate } from '../packets';
import { RawClient, connectMany } from '../raw-client';
import { loadFor, type Scenario } from './scenario';
import { throughputMetrics } from './throughput';
import { WindowedPublishers } from './windowed-publishers';

const LOAD = {
  full: { messages: 1_000_000, maxSeconds: 15 },
  quick: { messages: 15_000, maxSeconds: 5 },
};
const PUBLISHERS = 10;
const PAYLOAD = 64;
/** Unfinished QoS 2 exchanges per publisher; below every broker's receive maximum. */
const WINDOW = 50;
/**
 * Messages published but not yet fully delivered to the subscriber. Publishers get PUBCOMP as soon as
 * the broker has the message, so without this cap they outrun the subscriber side and the run measures
 * a growing queue instead of sustained throughput (Mosquitto 2.0 slows down sharply with 100k queued
 * QoS 2 messages for one client).
 */
const END_TO_END = PUBLISHERS * WINDOW;

export const qos2Throughput: Scenario = {
  name: 'qos2-throughput',
  title: `QoS 2 throughput ${PUBLISHERS}→1`,
  async run(ctx) {
    const load = loadFor(ctx, LOAD, ['messages', 'maxSeconds']);
    const { host, port, pool } = ctx;
    const subscriber = await RawClient.connect({ host, port, clientId: 'bench-q2-sub' }, pool);
    await subscriber.subscribe('bench/q2/+', 2);
    const publishers = await connectMany(
      PUBLISHERS,
      PUBLISHERS,
      (i) => ({ host, port, clientId: `bench-q2-pub-${i}` }),
      pool,
    );
    const templates = publishers.map((_, i) => publishTemplate(`bench/q2/${i}`, PAYLOAD, 2));

    let received = 0;
    let subscriberCompleted = 0;
    let lastAt = 0;
    const windowed = new WindowedPublishers(publishers, templates, {
      window: WINDOW,
      endToEnd: END_TO_END,
      messages: load.messages,
      maxSeconds: load.maxSeconds,
      through: () => subscriberCompleted,
    });
    publishers.forEach((publisher, i) => {
      publisher.onPacket = (type, _flags, buf, body) => {
        if (type === PUBREC) publisher.ack(PUBREL, buf.readUInt16BE(body));
        else if (type === PUBCOMP) {
          lastAt = performance.now();
          // Refilled per packet; the socket is corked during a read, so these join the read's PUBRELs.
          windowed.acked(i);
        }
      };
    });
    subscriber.onPacket = (type, _flags, buf, body) => {
      if (type === PUBLISH) {
        subscriber.ack(PUBREC, buf.readUInt16BE(publishIdOffset(buf, body)));
        received++;
      } else if (type === PUBREL) {
        subscriber.ack(PUBCOMP, buf.readUInt16BE(body));
        subscriberCompleted++;
        windowed.fillAll();
      } else return;
      lastAt = performance.now();
    };

    const cpu = startCpu(ctx.pid);
    const startAt = performance.now();
    windowed.start();
    const end = await waitForCompletion({
      isDone: () => windowed.done && received >= windowed.sent && subscriberCompleted >= windowed.sent,
      progress: () => windowed.acknowledged + received + subscriberCompleted,
      stallMs: 3000,
      deadline: ctx.deadline,
    });
    const { brokerCpuSeconds } = cpu.stop();
    const wallSeconds = ((lastAt > 0 ? lastAt : performance.now()) - startAt) / 1000;
    ctx.log(
      `sent ${windowed.sent}, completed ${windowed.acknowledged}, received ${received}, subscriber completed ${subscriberCompleted}`,
    );
    const { sent } = windowed;
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
