import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { configureApp } from './app.setup.js';
import { ConfigError, loadConfig, logLevelsUpTo } from './config/app-config.js';

async function bootstrap(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`loa: bad configuration: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
  const app = await NestFactory.create(AppModule, { logger: logLevelsUpTo(config.LOG_LEVEL) });
  configureApp(app);
  await app.listen(config.PORT);
  new Logger('Loa').log(`HTTP on :${config.PORT} (API /api/v1, docs /api/docs)`);
}

bootstrap().catch((err: unknown) => {
  console.error(`loa: failed to start: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
