import { performance } from 'node:perf_hooks';
import { sleep, startCpu } from '../measure';
import { rssKb } from '../proc';
import { connectMany } from '../raw-client';
import type { Scenario } from './scenario';

const LOAD = {
  full: { connections: 10_000, settleMs: 3000 },
  quick: { connections: 5000, settleMs: 500 },
};
/** Handshakes in flight at once: well under the listen backlog, so no SYN is dropped and retried. */
const CONCURRENCY = 100;
/**
 * Each 127.0.0.x source address has its own ~28k ephemeral ports towards one broker port. Explicit
 * addresses only beyond the first block: binding one makes the kernel search for a free port in bind(),
 * which costs far more per connection than letting connect() choose.
 */
const PER_SOURCE_ADDRESS = 20_000;

export const idleMemory: Scenario = {
  name: 'idle-memory',
  title: 'Memory per idle connection',
  async run(ctx) {
    const load = ctx.quick ? LOAD.quick : LOAD.full;
    const { host, port, pool } = ctx;
    const connections = Math.min(load.connections, ctx.maxConnections);
    if (connections < load.connections) {
      ctx.log(`open-files limit allows only ${connections} of ${load.connections} connections`);
    }
    // The broker was just started; let its startup allocations settle before the baseline.
    await sleep(load.settleMs);
    const before = rssKb(ctx.pid);
    const cpu = startCpu(ctx.pid);
    const startAt = performance.now();
    await connectMany(
      connections,
      CONCURRENCY,
      (i) => ({
        host,
        port,
        clientId: `bench-idle-${i}`,
        keepalive: 0,
        localAddress:
          i < PER_SOURCE_ADDRESS ? undefined : `127.0.0.${1 + Math.floor(i / PER_SOURCE_ADDRESS)}`,
      }),
      pool,
    );
    const wallSeconds = (performance.now() - startAt) / 1000;
    const { brokerCpuSeconds } = cpu.stop();
    await sleep(load.settleMs);
    const after = rssKb(ctx.pid);
    const open = pool.size;
    const perConnection = (after - before) / connections;
    ctx.log(`${open} open, RSS ${before} → ${after} KiB, ${perConnection.toFixed(2)} KiB/connection`);
    return {
      sent: connections,
      expected: connections,
      delivered: open,
      wallSeconds,
      brokerCpuSeconds,
      end: 'done',
      load: { ...load, connections, concurrency: CONCURRENCY },
      metrics: [
        {
          key: 'kbPerConnection',
          label: 'KB per idle connection',
          better: 'lower',
          format: 'decimal',
          value: perConnection,
        },
        {
          key: 'rssAfterMb',
          label: `RSS with ${connections} conns (MB)`,
          better: 'lower',
          format: 'decimal',
          value: after / 1024,
        },
        {
          key: 'deliveryRatio',
          label: 'connections held',
          better: 'higher',
          format: 'percent',
          value: open / connections,
        },
      ],
    };
  },
};
