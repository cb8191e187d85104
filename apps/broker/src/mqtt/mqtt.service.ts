import type { FluxConfig } from '@fluxmq/config';
import type { Broker, Logger } from '@fluxmq/engine';
import { startBrokerServer, type BrokerServer, type MetricsRegistries } from '@fluxmq/server';
import type { SamplingPolicy } from '@fluxmq/telemetry';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { FLUX_CONFIG, FLUX_LOGGER } from '../tokens';

/** Owns the running broker for the app's lifetime; Nest only starts and stops it, never touches messages. */
@Injectable()
export class MqttService implements OnApplicationBootstrap, OnApplicationShutdown {
  private server: BrokerServer | undefined;

  constructor(
    @Inject(FLUX_CONFIG) private readonly config: FluxConfig,
    @Inject(FLUX_LOGGER) private readonly logger: Logger,
  ) {}

  get broker(): Broker {
    if (!this.server) throw new Error('the broker is not running');
    return this.server.broker;
  }

  get ports(): Readonly<Record<string, number>> {
    return this.server?.ports ?? {};
  }

  get metrics(): MetricsRegistries | undefined {
    return this.server?.metrics;
  }

  get sampling(): SamplingPolicy | undefined {
    return this.server?.sampling;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.server = await startBrokerServer(this.config, { logger: this.logger });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.server?.close();
  }
}
