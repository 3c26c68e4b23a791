import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { Heartbeat } from '../broker/payloads.js';
import { AppConfig } from '../config/app-config.js';
import { JOBS, QUEUES, type TelemetryBatchJob } from '../queues/queues.js';
import { RedisService } from '../redis/redis.module.js';
import type { DeviceTelemetry } from './device.entity.js';

/**
 * Heartbeat telemetry and rejected-payload counts, gathered in memory and handed to BullMQ
 * as one batch every TELEMETRY_FLUSH_MS, so Postgres sees one UPDATE per batch instead of
 * one per heartbeat. Only the newest telemetry of a device within a batch is kept.
 */
@Injectable()
export class TelemetryBuffer implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(TelemetryBuffer.name);
  private latest = new Map<string, { at: string; telemetry: DeviceTelemetry }>();
  private rejected = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private readonly rejectedKey: string;

  constructor(
    @InjectQueue(QUEUES.telemetry) private readonly queue: Queue<TelemetryBatchJob>,
    @Inject(RedisService) private readonly redis: RedisService,
    @Inject(AppConfig) private readonly config: AppConfig,
  ) {
    this.rejectedKey = redis.key('devices', 'rejected');
  }

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), this.config.TELEMETRY_FLUSH_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }

  record(code: string, heartbeat: Heartbeat): void {
    this.latest.set(code, { at: new Date().toISOString(), telemetry: { ...heartbeat } });
  }

  countRejected(code: string): void {
    this.rejected.set(code, (this.rejected.get(code) ?? 0) + 1);
  }

  /** Rejected payloads per device, as counted across the cluster. */
  async rejectedCounts(codes: string[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    if (!codes.length) return counts;
    const values = await this.redis.client.hmget(this.rejectedKey, ...codes);
    codes.forEach((code, i) => counts.set(code, Number(values[i] ?? 0)));
    return counts;
  }

  async flush(): Promise<void> {
    const latest = this.latest;
    const rejected = this.rejected;
    if (!latest.size && !rejected.size) return;
    this.latest = new Map();
    this.rejected = new Map();
    try {
      if (rejected.size) {
        const pipeline = this.redis.client.pipeline();
        for (const [code, n] of rejected) pipeline.hincrby(this.rejectedKey, code, n);
        await pipeline.exec();
      }
      if (latest.size) {
        const items = [...latest].map(([code, v]) => ({ code, ...v }));
        await this.queue.add(JOBS.telemetryBatch, { items });
      }
    } catch (err) {
      this.logger.error(`telemetry batch of ${latest.size} device(s) not queued: ${(err as Error).message}`);
    }
  }
}
