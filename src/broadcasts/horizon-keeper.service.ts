import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { updateReturning } from '../common/postgres.js';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config.js';
import { DeviceInbox } from '../devices/device-inbox.js';
import { Broadcast } from './broadcast.entity.js';
import { MissedPlays } from './missed-plays.service.js';
import { OccurrencePlanner } from './occurrence-planner.service.js';
import { SchedulePublisher } from './schedule-publisher.service.js';

/**
 * Keeps occurrences materialised SCHEDULE_HORIZON_H ahead for recurring broadcasts, closes
 * broadcasts that have nothing left to play, and gives a device newly placed in a targeted
 * area its share of the upcoming plays.
 */
@Injectable()
export class HorizonKeeper implements OnModuleInit {
  private readonly logger = new Logger(HorizonKeeper.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(OccurrencePlanner) private readonly planner: OccurrencePlanner,
    @Inject(SchedulePublisher) private readonly schedules: SchedulePublisher,
    @Inject(MissedPlays) private readonly missed: MissedPlays,
    @Inject(DeviceInbox) private readonly inbox: DeviceInbox,
    @Inject(AppConfig) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.inbox.subscribe({
      onPlaced: (deviceId) =>
        void this.placeDevice(deviceId).catch((err: unknown) => this.logger.error(`device ${deviceId} not added to upcoming plays: ${String(err)}`)),
    });
  }

  horizonEnd(now = new Date()): Date {
    return new Date(now.getTime() + this.config.SCHEDULE_HORIZON_H * 3_600_000);
  }

  async extend(now = new Date()): Promise<{ extended: number; completed: number }> {
    const until = this.horizonEnd(now);
    const due = await this.db.getRepository(Broadcast).createQueryBuilder('b')
      .where(`b.state = 'active' AND b.scheduleKind = 'recurring'`)
      .andWhere('(b.materialisedUntil IS NULL OR b.materialisedUntil < :until)', { until })
      .getMany();
    const dirty = new Set<string>();
    for (const broadcast of due) {
      try {
        const planned = await this.db.transaction(async (em) => {
          const result = await this.planner.materialise(em, broadcast, until);
          const overlaps = await this.planner.resolveOverlaps(em, broadcast, result.occurrences.map((o) => o.id), { refuseSamePriority: false });
          return { ...result, touched: overlaps.deviceIds };
        });
        for (const id of [...planned.deviceIds, ...planned.touched]) dirty.add(id);
        await this.missed.watch(planned.occurrences);
      } catch (err) {
        this.logger.error(`broadcast ${broadcast.id}: horizon not extended: ${(err as Error).message}`);
      }
    }
    await this.schedules.markDirty(dirty);
    const completed = await updateReturning<{ id: string }>(
      this.db,
      `UPDATE broadcasts b SET state = 'completed', updated_at = now()
       WHERE b.state = 'active' AND (
         (b.schedule_kind = 'now' AND b.expires_at < $1) OR
         (b.schedule_kind = 'once' AND b.start_at + b.duration_ms * interval '1 millisecond' < $1) OR
         (b.schedule_kind = 'recurring' AND b.materialised_until IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM occurrences o WHERE o.broadcast_id = b.id AND o.end_at > $1)
          AND b.until IS NOT NULL AND b.until < $1))
       RETURNING b.id`,
      [now],
    );
    return { extended: due.length, completed: completed.length };
  }

  /** A device provisioned in (or moved to) a targeted area joins the upcoming scheduled plays. */
  async placeDevice(deviceId: string): Promise<number> {
    const rows = await this.db.query<{ id: string }[]>(
      `INSERT INTO deliveries (occurrence_id, device_id)
       SELECT DISTINCT o.id, d.id FROM devices d
       JOIN areas a ON a.id = d.area_id
       JOIN broadcast_targets t ON t.device_id = d.id
            OR t.area_id IN (SELECT ta.id FROM areas ta WHERE starts_with(a.path, ta.path))
       JOIN broadcasts b ON b.id = t.broadcast_id AND b.state = 'active' AND b.schedule_kind <> 'now'
       JOIN occurrences o ON o.broadcast_id = b.id AND o.start_at > now() AND o.cancelled_at IS NULL
       WHERE d.id = $1 AND d.decommissioned_at IS NULL
       ON CONFLICT (occurrence_id, device_id) DO NOTHING RETURNING id`,
      [deviceId],
    );
    if (rows.length) await this.schedules.markDirty([deviceId]);
    return rows.length;
  }
}
