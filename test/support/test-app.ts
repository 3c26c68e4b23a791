import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import request from 'supertest';
import { AppModule } from '../../src/app.module.js';
import { configureApp } from '../../src/app.setup.js';
import { AppConfig, loadConfig, logLevelsUpTo } from '../../src/config/app-config.js';
import { BrokerService } from '../../src/broker/broker.service.js';
import { cloneTemplate, dropDatabase } from './databases.js';

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const ADMIN = { username: 'admin', password: 'admin-password-for-tests' };

export interface TestApp {
  app: INestApplication;
  config: AppConfig;
  /** supertest bound to the app's HTTP server */
  http: () => ReturnType<typeof request>;
  /** `Authorization` header value of the bootstrap admin */
  auth: string;
  /** base URL of the HTTP server, for clients other than supertest */
  apiUrl: string;
  mqttUrl: string;
  mqttPort: number;
  /** Idempotent: a test may close an app itself and leave it to its teardown as well. */
  close(): Promise<void>;
}

export interface TestAppOptions {
  /**
   * Start another instance of this app's deployment: same database, Redis prefix and media
   * directory (a cluster). Those stay owned by the first app: closing this one leaves them.
   */
  joining?: TestApp;
}

/**
 * A whole Loa (HTTP, broker on an ephemeral port, queues) on its own cloned database and
 * its own Redis prefix, so test files run side by side without seeing each other.
 */
export async function startTestApp(env: Record<string, string> = {}, options: TestAppOptions = {}): Promise<TestApp> {
  const joined = options.joining?.config;
  const db = joined ? null : await cloneTemplate();
  const prefix = joined?.REDIS_PREFIX ?? `loatest_${randomBytes(4).toString('hex')}`;
  const mediaDir = joined?.MEDIA_DIR ?? (await mkdtemp(join(tmpdir(), 'loa-media-')));
  // Devices are sent media URLs built from PUBLIC_URL, so the HTTP port is chosen up front.
  const port = await freePort();
  const config = loadConfig({
    DATABASE_URL: joined?.DATABASE_URL ?? db!.url,
    REDIS_URL,
    REDIS_PREFIX: prefix,
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    MEDIA_DIR: mediaDir,
    MQTT_PORT: '0',
    MQTT_HOST: '127.0.0.1',
    ADMIN_USERNAME: ADMIN.username,
    ADMIN_PASSWORD: ADMIN.password,
    JWT_SECRET: 'test-jwt-secret-0123456789abcdef',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    TELEMETRY_FLUSH_MS: '200',
    LIVENESS_SWEEP_S: '1',
    ...env,
  });
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
    .overrideProvider(AppConfig)
    .useValue(config)
    .compile();
  const app = moduleRef.createNestApplication({ logger: logLevelsUpTo(config.LOG_LEVEL) });
  configureApp(app);
  await app.listen(port, '127.0.0.1');
  const server = app.getHttpServer();
  const http = () => request(server);
  const login = await http().post('/api/v1/auth/login').send(ADMIN).expect(200);
  const mqttPort = app.get(BrokerService).port;
  const close = async () => {
    await app.close();
    if (!db) return;
    await dropDatabase(db.name);
    await deleteRedisPrefix(prefix);
    await rm(mediaDir, { recursive: true, force: true });
  };
  let closing: Promise<void> | undefined;
  return {
    app,
    config,
    http,
    auth: `Bearer ${login.body.accessToken}`,
    apiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    mqttPort,
    mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
    close: () => (closing ??= close()),
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function deleteRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** Polls `probe` until it returns a truthy value or `timeoutMs` passes. */
export async function eventually<T>(probe: () => Promise<T | undefined | null | false>, timeoutMs = 10_000, stepMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
