import { Controller, Get } from '@nestjs/common';
import { MqttService } from '../mqtt/mqtt.service';

@Controller()
export class HealthController {
  constructor(private readonly mqtt: MqttService) {}

  /** Liveness and a glance at the broker, for container health checks and the compose stack. */
  @Get('healthz')
  health(): {
    status: 'ok';
    uptimeSeconds: number;
    clients: number;
    listeners: Readonly<Record<string, number>>;
  } {
    const stats = this.mqtt.broker.stats;
    return {
      status: 'ok',
      uptimeSeconds: Math.floor((Date.now() - stats.startedAt) / 1000),
      clients: stats.clientsConnected,
      listeners: this.mqtt.ports,
    };
  }
}
