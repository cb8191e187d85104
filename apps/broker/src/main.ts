import './v8-flags';
import 'reflect-metadata';
import { ConfigError, loadConfig, type FluxConfig } from '@fluxmq/config';
import { createJsonLogger } from '@fluxmq/server';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { NestJsonLogger } from './nest-logger';
import { startOtelSdk } from './telemetry/otel-sdk';

function readConfig(): FluxConfig {
  try {
    const fileFlag = process.argv.indexOf('--config');
    return loadConfig({ file: fileFlag > 0 ? process.argv[fileFlag + 1] : undefined });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`fluxmq: ${err.message}\n`);
    process.exit(2);
  }
}

async function bootstrap(): Promise<void> {
  const config = readConfig();
  const logger = createJsonLogger(config.log.level);
  // Before Nest and the broker exist, so the tracer provider is in place when the engine asks for it.
  const stopOtel = startOtelSdk(config.telemetry, logger);
  const app = await NestFactory.create(AppModule.forRoot(config, logger), {
    logger: new NestJsonLogger(logger),
  });
  // Our own handlers rather than Nest's enableShutdownHooks, which re-raises the signal: a clean stop
  // (clients told "server shutting down", listeners closed) then exits 0.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.info('shutting down', { signal });
      app
        .close()
        .then(() => stopOtel?.())
        .then(
          () => process.exit(0),
          () => process.exit(1),
        );
    });
  }
  await app.listen(config.http.port, config.http.host);
  const address = app.getHttpServer().address();
  logger.info('admin http listening', {
    host: config.http.host,
    port: typeof address === 'object' && address ? address.port : config.http.port,
  });
}

bootstrap().catch((err: unknown) => {
  process.stderr.write(`fluxmq: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
