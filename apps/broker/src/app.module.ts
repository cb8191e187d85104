import type { FluxConfig } from '@fluxmq/config';
import type { Logger } from '@fluxmq/engine';
import { Module, type DynamicModule } from '@nestjs/common';
import { HealthController } from './health/health.controller';
import { MqttModule } from './mqtt/mqtt.module';
import { MetricsController } from './telemetry/metrics.controller';
import { SamplingController } from './telemetry/sampling.controller';
import { FLUX_CONFIG, FLUX_LOGGER } from './tokens';

/** The composition root: configuration in, the MQTT engine and the admin HTTP surface out. */
@Module({})
export class AppModule {
  static forRoot(config: FluxConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [MqttModule],
      controllers: [HealthController, MetricsController, SamplingController],
      providers: [
        { provide: FLUX_CONFIG, useValue: config },
        { provide: FLUX_LOGGER, useValue: logger },
      ],
      exports: [FLUX_CONFIG, FLUX_LOGGER],
    };
  }
}
