import { samplingSchema, type SamplingConfig } from '@fluxmq/config';
import { BadRequestException, Body, Controller, Get, NotFoundException, Put } from '@nestjs/common';
import { z } from 'zod';
import { MqttService } from '../mqtt/mqtt.service';

/** Trace sampling, changeable while the broker runs; validated by the config schema's sampling part. */
@Controller('api/telemetry/sampling')
export class SamplingController {
  constructor(private readonly mqtt: MqttService) {}

  @Get()
  get(): SamplingConfig {
    return this.policy().settings;
  }

  @Put()
  put(@Body() body: unknown): SamplingConfig {
    const parsed = samplingSchema.strict().safeParse(body);
    if (!parsed.success)
      throw new BadRequestException({
        message: 'invalid sampling settings',
        errors: z.treeifyError(parsed.error),
      });
    const policy = this.policy();
    policy.update(parsed.data);
    return policy.settings;
  }

  private policy() {
    const sampling = this.mqtt.sampling;
    if (!sampling) throw new NotFoundException('tracing is disabled (telemetry.tracing.enabled=false)');
    return sampling;
  }
}
