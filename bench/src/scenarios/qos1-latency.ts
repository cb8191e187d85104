import { percentile, startCpu, waitForCompletion } from '../measure';
import { PUBACK, PUBLISH, publishIdOffset, publishTemplate } from '../packets';
import { RawClient } from '../raw-client';
import { loadFor, type Scenario } from './scenario';
import { ratio } from './throughput';

const LOAD = {
  full: { rate: 2000, seconds: 10, warmupSeconds: 0.5 },
  quick: { rate: 2000, seconds: 1, warmupSeconds: 0.1 },
};
const PAYLOAD = 64;

export const qos1Latency: Scenario = {
  name: 'qos1-latency',
  title: 'QoS 1 latency 1→1',
  async run(ctx) {
    const load = loadFor(ctx, LOAD, ['seconds']);
    const { host, port, pool } = ctx;
    const topic = 'bench/lat';
    const subscriber = await RawClient.connect({ host, port, clientId: 'bench-lat-sub' }, pool);
    await subscriber.subscribe(topic, 1);
    const publisher = await RawClient.connect({ host, port, clientId: 'bench-lat-pub' }, pool);
    const template = publishTemplate(topic, PAYLOAD, 1);

    // The first messages pay for the broker's JIT warm-up on a fresh process: a one-off cost, not the
    // steady-state latency the target is about, so they are sent but not recorded.
    const warmup = Math.round(load.rate * load.warmupSeconds);
    const total = warmup + load.rate * load.seconds;
    const latencies = new Float64Array(total);
    let recorded = 0;
    let sent = 0;
    let received = 0;
    let acked = 0;

    subscriber.onPacket = (type, _flags, buf, body) => {
      if (type !== PUBLISH) return;
      const now = process.hrtime.bigint();
      const idAt = publishIdOffset(buf, body);
      subscriber.ack(PUBACK, buf.readUInt16BE(idAt));
      const seq = buf.readUInt32BE(idAt + 2 + 8);
      if (seq >= warmup) latencies[recorded++] = Number(now - buf.readBigUInt64BE(idAt + 2)) / 1e6;
      received++;
    };
    publisher.onPacket = (type) => {
      if (type === PUBACK) acked++;
    };

    const send = (): void => {
      const packet = Buffer.from(template.bytes);
      packet.writeUInt16BE((sent % 65535) + 1, template.idOffset);
      packet.writeUInt32BE(sent, template.payloadOffset + 8);
      packet.writeBigUInt64BE(process.hrtime.bigint(), template.payloadOffset);
      publisher.write(packet);
      sent++;
    };

    const cpu = startCpu(ctx.pid);
    const startAt = process.hrtime.bigint();
    // Paced by the clock, not by timer count: each tick sends whatever is due, so timer jitter delays
    // a message by at most one tick instead of slowing the whole run down.
    const pacer = setInterval(() => {
      const due = Math.min(total, Math.floor((Number(process.hrtime.bigint() - startAt) / 1e9) * load.rate));
      while (sent < due) send();
      if (sent >= total || Date.now() >= ctx.deadline) clearInterval(pacer);
    }, 1);
    const end = await waitForCompletion({
      isDone: () => sent === total && received >= total && acked >= total,
      progress: () => received + acked + sent,
      stallMs: 3000,
      deadline: ctx.deadline,
    });
    clearInterval(pacer);
    const { brokerCpuSeconds } = cpu.stop();
    const wallSeconds = Number(process.hrtime.bigint() - startAt) / 1e9;
    const sorted = latencies.subarray(0, recorded).sort();
    const p50 = percentile(sorted, 50);
    const p99 = percentile(sorted, 99);
    const max = recorded > 0 ? sorted[recorded - 1] : Number.NaN;
    ctx.log(`sent ${sent}, received ${received}, p50 ${p50.toFixed(3)} ms, p99 ${p99.toFixed(3)} ms`);
    const value = (n: number): number | null => (Number.isFinite(n) ? n : null);
    return {
      sent,
      expected: sent,
      delivered: received,
      wallSeconds,
      brokerCpuSeconds,
      end,
      load: { ...load, payload: PAYLOAD },
      metrics: [
        { key: 'p50', label: 'p50 ms', better: 'lower', format: 'decimal', value: value(p50) },
        { key: 'p99', label: 'p99 ms', better: 'lower', format: 'decimal', value: value(p99) },
        { key: 'max', label: 'max ms', better: 'lower', format: 'decimal', value: value(max) },
        {
          key: 'brokerCpu',
          label: 'broker CPU-s',
          better: 'lower',
          format: 'decimal',
          value: brokerCpuSeconds,
        },
        {
          key: 'deliveryRatio',
          label: 'delivery ratio',
          better: 'higher',
          format: 'percent',
          value: ratio(received, sent),
        },
      ],
    };
  },
};
