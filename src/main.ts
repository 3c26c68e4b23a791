import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { configureApp } from './app.setup.js';
import { ConfigError, loadConfig } from './config/app-config.js';

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
  const app = await NestFactory.create(AppModule, { logger: levelsFrom(config.LOG_LEVEL) });
  configureApp(app);
  await app.listen(config.PORT);
  new Logger('Loa').log(`HTTP on :${config.PORT} (API /api/v1, docs /api/docs)`);
}

function levelsFrom(level: string) {
  const all = ['error', 'warn', 'log', 'debug', 'verbose'] as const;
  return all.slice(0, all.indexOf(level as (typeof all)[number]) + 1);
}

bootstrap().catch((err: unknown) => {
  console.error(`loa: failed to start: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
