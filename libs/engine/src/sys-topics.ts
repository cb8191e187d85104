import type { Broker } from './broker';
import { Message } from './message';

const WINDOWS = [
  ['1min', 60],
  ['5min', 300],
  ['15min', 900],
] as const;

type LoadSource = 'messages/received' | 'messages/sent' | 'publish/received' | 'publish/sent';
type LoadKey = LoadSource | 'bytes/received' | 'bytes/sent' | 'connections';

/**
 * Mosquitto-compatible `$SYS/broker/...` statistics, published as retained messages every interval so
 * dashboards written for Mosquitto work unchanged. Loads are per-minute rates as exponential moving averages.
 */
export class SysTopics {
  private readonly timer: NodeJS.Timeout;
  private readonly last = new Map<LoadKey, number>();
  private readonly loads = new Map<string, number>();

  constructor(
    private readonly broker: Broker,
    private readonly intervalSeconds: number,
    private readonly version: string,
  ) {
    this.timer = setInterval(() => this.publishAll(), intervalSeconds * 1000);
    this.timer.unref();
    this.publishAll();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private totals(): Record<LoadKey, number> {
    const s = this.broker.stats;
    return {
      'messages/received': s.packetsReceived,
      'messages/sent': s.packetsSent,
      'publish/received': s.messagesReceived,
      'publish/sent': s.messagesSent,
      'bytes/received': s.bytesReceived,
      'bytes/sent': s.bytesSent,
      connections: s.connectionsTotal,
    };
  }

  private publishAll(): void {
    const broker = this.broker;
    const s = broker.stats;
    let queued = 0;
    for (const session of broker.sessions.values()) queued += session.queue.length + session.inflight.size;
    const values: [string, string | number][] = [
      ['version', `FluxMQ ${this.version}`],
      ['uptime', `${Math.floor((Date.now() - s.startedAt) / 1000)} seconds`],
      ['clients/connected', s.clientsConnected],
      ['clients/active', s.clientsConnected],
      ['clients/disconnected', broker.sessions.size - s.clientsConnected],
      ['clients/total', broker.sessions.size],
      ['clients/maximum', s.clientsMaximum],
      ['messages/received', s.packetsReceived],
      ['messages/sent', s.packetsSent],
      ['messages/stored', queued + broker.retained.size],
      ['publish/messages/received', s.messagesReceived],
      ['publish/messages/sent', s.messagesSent],
      ['publish/messages/dropped', s.droppedTotal],
      ['bytes/received', s.bytesReceived],
      ['bytes/sent', s.bytesSent],
      ['subscriptions/count', broker.subscriptions.size],
      ['shared_subscriptions/count', broker.subscriptions.sharedGroupCount],
      ['retained messages/count', broker.retained.size],
      ['store/messages/count', queued],
      ['heap/current', process.memoryUsage().heapUsed],
    ];
    for (const [key, total] of Object.entries(this.totals()) as [LoadKey, number][]) {
      // The first round publishes zero loads, so the set of $SYS topics (and the retained count) is stable.
      const prev = this.last.get(key) ?? total;
      this.last.set(key, total);
      const perMinute = ((total - prev) * 60) / this.intervalSeconds;
      for (const [name, seconds] of WINDOWS) {
        const id = `${key.replace('publish/', 'publish/messages/')}/${name}`;
        const decay = Math.exp(-this.intervalSeconds / seconds);
        const load = (this.loads.get(id) ?? perMinute) * decay + perMinute * (1 - decay);
        this.loads.set(id, load);
        values.push([`load/${id}`, load.toFixed(2)]);
      }
    }
    broker.beginBatch();
    for (const [topic, value] of values) {
      const msg = new Message(`$SYS/broker/${topic}`, Buffer.from(String(value)), 0, true, undefined, '', 0);
      broker.publish(msg, undefined);
    }
    broker.endBatch();
  }
}
