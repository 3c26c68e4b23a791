import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Queue } from 'bullmq';
import { updateReturning } from '../common/postgres.js';
import { DataSource, In } from 'typeorm';
import { BrokerService } from '../broker/broker.service.js';
import type { MediaPayload, Priority, ScheduleItem, SchedulePayload } from '../broker/payloads.js';
import { deviceTopic } from '../broker/topics.js';
import { AppConfig } from '../config/app-config.js';
import { Media } from '../media/media.entity.js';
import { MediaService } from '../media/media.service.js';
import { JOBS, QUEUES } from '../queues/queues.js';
import { RedisService } from '../redis/redis.module.js';

/** Devices whose schedules are rebuilt per query: large enough to amortise, small enough to publish in one go. */
const BATCH = 500;

interface ItemRow {
  delivery_id: string;
  device_id: string;
  occurrence_id: string;
  broadcast_id: string;
  start_at: Date;
  priority: Priority;
  volume: number | null;
  media_id: string;
}

/**
 * Keeps each device's retained Schedule equal to its upcoming plays. Changes only mark
 * devices dirty (a Redis set); one deduplicated job then rebuilds and republishes each dirty
 * device once, however many broadcasts touched it meanwhile.
 */
@Injectable()
export class SchedulePublisher implements OnApplicationBootstrap {
  private readonly logger = new Logger(SchedulePublisher.name);
  private readonly dirtyKey: string;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(BrokerService) private readonly broker: BrokerService,
    @Inject(MediaService) private readonly media: MediaService,
    @Inject(RedisService) private readonly redis: RedisService,
    @Inject(AppConfig) private readonly config: AppConfig,
    @InjectQueue(QUEUES.scheduling) private readonly queue: Queue,
  ) {
    this.dirtyKey = redis.key('schedules', 'dirty');
  }

  /**
   * The in-memory broker loses retained messages with the process, so after a restart every
   * device with upcoming plays gets its Schedule again. In cluster mode they live in Redis and
   * only the first instance to boot after Redis lost them does this (`BrokerService.retainedLost`).
   */
  onApplicationBootstrap(): void {
    this.broker
      .retainedLost('schedule')
      .then(async (lost) => {
        if (!lost) return;
        const rows = await this.db.query<{ device_id: string }[]>(
          `SELECT DISTINCT dl.device_id FROM deliveries dl JOIN occurrences o ON o.id = dl.occurrence_id
           WHERE dl.status IN ('pending', 'delivered', 'started') AND o.end_at > now() AND o.cancelled_at IS NULL`,
        );
        // Marked dirty is enough: the publish job lives in Redis and any instance finishes it.
        await this.markDirty(rows.map((r) => r.device_id));
        await this.broker.retainedRestored('schedule');
      })
      .catch((err: unknown) => this.logger.error(`schedules not republished at boot: ${String(err)}`));
  }

  async markDirty(deviceIds: Iterable<string>): Promise<void> {
    const ids = [...new Set(deviceIds)];
    if (!ids.length) return;
    for (let i = 0; i < ids.length; i += 5000) await this.redis.client.sadd(this.dirtyKey, ...ids.slice(i, i + 5000));
    await this.queue.add(JOBS.publishSchedules, null, {
      delay: 50,
      deduplication: { id: JOBS.publishSchedules, keepLastIfActive: true },
      removeOnComplete: true,
    });
  }

  /** Publishes every dirty device's schedule; returns how many were published. */
  async publishDirty(): Promise<number> {
    let published = 0;
    for (;;) {
      const ids = await this.redis.client.spop(this.dirtyKey, BATCH);
      if (!ids.length) return published;
      try {
        published += await this.publish(ids);
      } catch (err) {
        // Put them back so the retry of this job publishes them.
        await this.redis.client.sadd(this.dirtyKey, ...ids);
        throw err;
      }
    }
  }

  private async publish(deviceIds: string[]): Promise<number> {
    const now = new Date();
    const horizonEnd = new Date(now.getTime() + this.config.SCHEDULE_HORIZON_H * 3_600_000);
    const items = await this.db.query<ItemRow[]>(
      `SELECT dl.id AS delivery_id, dl.device_id, o.id AS occurrence_id, o.broadcast_id, o.start_at,
              b.priority, b.volume, b.media_id
       FROM deliveries dl
       JOIN occurrences o ON o.id = dl.occurrence_id
       JOIN broadcasts b ON b.id = o.broadcast_id
       WHERE dl.device_id = ANY($1) AND dl.status IN ('pending', 'delivered', 'started')
         AND o.cancelled_at IS NULL AND o.end_at > $2 AND o.start_at < $3
         AND b.state = 'active' AND b.schedule_kind <> 'now'
       ORDER BY o.start_at`,
      [deviceIds, now, horizonEnd],
    );
    // The version bump and the marking of which version first carried each delivery happen
    // before the publish: a heartbeat confirming the new version must find them.
    const versions = await this.db.transaction(async (em) => {
      const bumped = await updateReturning<{ id: string; code: string; schedule_version: number }>(
        em,
        `UPDATE devices SET schedule_version = schedule_version + 1
         WHERE id = ANY($1) AND decommissioned_at IS NULL RETURNING id, code, schedule_version`,
        [deviceIds],
      );
      const versionOf = new Map(bumped.map((d) => [d.id, d.schedule_version]));
      const carried = items.filter((i) => versionOf.has(i.device_id));
      if (carried.length) {
        await em.query(
          `UPDATE deliveries dl SET schedule_version = u.v FROM unnest($1::uuid[], $2::int[]) u(id, v)
           WHERE dl.id = u.id AND dl.schedule_version IS NULL`,
          [carried.map((i) => i.delivery_id), carried.map((i) => versionOf.get(i.device_id))],
        );
      }
      return bumped;
    });
    const mediaPayloads = await this.mediaPayloads([...new Set(items.map((i) => i.media_id))], now);
    const itemsOf = new Map<string, ScheduleItem[]>();
    for (const row of items) {
      const list = itemsOf.get(row.device_id) ?? [];
      list.push({
        occurrenceId: row.occurrence_id,
        broadcastId: row.broadcast_id,
        startAt: new Date(row.start_at).toISOString(),
        priority: row.priority,
        ...(row.volume === null ? {} : { volume: row.volume }),
        media: mediaPayloads.get(row.media_id)!,
      });
      itemsOf.set(row.device_id, list);
    }
    await Promise.all(
      versions.map((device) => {
        const schedule: SchedulePayload = {
          version: device.schedule_version,
          generatedAt: now.toISOString(),
          timezone: this.config.DEVICE_TIMEZONE,
          items: itemsOf.get(device.id) ?? [],
        };
        return this.broker.publish(deviceTopic(device.code, 'schedule'), schedule, { retain: true, qos: 1 });
      }),
    );
    this.logger.debug(`published ${versions.length} schedule(s) holding ${items.length} item(s)`);
    return versions.length;
  }

  private async mediaPayloads(ids: string[], now: Date): Promise<Map<string, MediaPayload>> {
    if (!ids.length) return new Map();
    const rows = await this.db.getRepository(Media).findBy({ id: In(ids) });
    return new Map(rows.map((m) => [m.id, this.media.devicePayload(m, now)]));
  }
}
