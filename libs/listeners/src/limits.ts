import type { Server } from 'node:net';
import type { Broker, Logger, Transport } from '@fluxmq/engine';

/**
 * Writes one line per interval at most and says how many it held back: refusals come in floods (a client
 * retrying in a loop, a scanner), and each one logged would turn a limit into a disk-filling log.
 */
export class ThrottledLog {
  private nextAt = 0;
  private held = 0;

  constructor(
    private readonly log: Logger,
    private readonly level: 'info' | 'warn',
    private readonly intervalMs = 1000,
  ) {}

  write(msg: string, fields: Record<string, unknown>): void {
    const now = Date.now();
    if (now < this.nextAt) {
      this.held++;
      return;
    }
    this.nextAt = now + this.intervalMs;
    this.log[this.level](msg, this.held > 0 ? { ...fields, suppressed: this.held } : fields);
    this.held = 0;
  }
}

/**
 * The connection limits of the listeners: the broker's `mqtt.maxConnections` (the engine refuses those in
 * `handleConnection`, as it knows how many clients it holds) and each listener's own `maxConnections`
 * (refused by the server at accept, before a TLS handshake or an HTTP upgrade costs anything). Refusals are
 * counted by listener and logged at most once a second.
 */
export class ConnectionGate {
  /** Connections refused by a limit, by listener name. */
  readonly rejected: Record<string, number> = {};
  private readonly log: ThrottledLog;

  constructor(private readonly broker: Broker) {
    this.log = new ThrottledLog(broker.log, 'warn');
  }

  /** Hands an accepted connection to the engine; counts it when the engine refuses it for the limit. */
  admit(transport: Transport): void {
    if (this.broker.handleConnection(transport)) return;
    // With no limit set the engine refuses only while shutting down: not a refusal worth counting.
    if (this.broker.config.maxConnections > 0) {
      this.refused(transport.listener, 'mqtt.maxConnections', transport.remoteAddress);
    }
  }

  /** Makes `server` close connections beyond `max` as it accepts them; 0 = no limit of its own. */
  limit(server: Server, listener: string, max: number): void {
    // Node reads 0 as "accept nothing", so leave the property unset for "unlimited".
    if (max <= 0) return;
    server.maxConnections = max;
    server.on('drop', (data?: { remoteAddress?: string }) =>
      this.refused(listener, `listeners.${listener}.maxConnections`, data?.remoteAddress),
    );
  }

  private refused(listener: string, limit: string, remoteAddress: string | undefined): void {
    this.rejected[listener] = (this.rejected[listener] ?? 0) + 1;
    this.log.write('connection refused: limit reached', { listener, limit, remoteAddress });
  }
}
