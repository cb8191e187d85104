import { Controller, Get, Header, Headers, NotFoundException, Res } from '@nestjs/common';
import type { Response } from 'express';
import { MqttService } from '../mqtt/mqtt.service';

@Controller()
export class MetricsController {
  constructor(private readonly mqtt: MqttService) {}

  /**
   * Prometheus exposition. Scrapers that accept OpenMetrics (Prometheus does) get it, with trace exemplars
   * on the latency histogram; everything else gets the classic text format.
   */
  @Get('metrics')
  @Header('cache-control', 'no-store')
  async metrics(@Headers('accept') accept: string | undefined, @Res() res: Response): Promise<void> {
    const metrics = this.mqtt.metrics;
    if (!metrics) throw new NotFoundException('metrics are disabled (telemetry.metrics.enabled=false)');
    const registry = accept?.includes('application/openmetrics-text')
      ? metrics.openMetrics
      : metrics.prometheus;
    res.setHeader('content-type', registry.contentType);
    res.send(await registry.metrics());
  }
}
