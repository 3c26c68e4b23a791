import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Queue } from 'bullmq';
import { updateReturning } from '../common/postgres.js';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config.js';
import { JOBS, QUEUES } from '../queues/queues.js';
import type { PlannedOccurrence } from './occurrence-planner.service.js';

export interface MarkMissedJob {
  occurrenceId: string;
}

/**
 * One delayed job per occurrence marks the deliveries that never started as `missed`: a
 * scheduled play MISSED_GRACE_S after its start time, an immediate one when its command
 * expires. A device's late `started` event still overrides it (the as-run log trusts what
 * the device reports over what Loa inferred).
 */
@Injectable()
export class MissedPlays {
  private readonly logger = new Logger(MissedPlays.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(AppConfig) private readonly config: AppConfig,
    @InjectQueue(QUEUES.scheduling) private readonly queue: Queue,
  ) {}

  async watch(occurrences: PlannedOccurrence[], expiresAt: Date | null = null): Promise<void> {
    if (!occurrences.length) return;
    const now = Date.now();
    await this.queue.addBulk(
      occurrences.map((o) => ({
        name: JOBS.markMissed,
        data: { occurrenceId: o.id } satisfies MarkMissedJob,
        opts: {
          delay: Math.max(0, (expiresAt?.getTime() ?? o.startAt.getTime() + this.config.MISSED_GRACE_S * 1000) - now),
          // Deterministic: planning the same occurrence twice does not double the job.
          jobId: `missed-${o.id}`,
          removeOnComplete: true,
        },
      })),
    );
  }

  async markMissed({ occurrenceId }: MarkMissedJob): Promise<number> {
    const rows = await updateReturning<{ id: string }>(
      this.db,
      `UPDATE deliveries SET status = 'missed', ended_at = now(),
              reason = CASE WHEN status = 'pending' THEN 'never reached the device' ELSE 'reached the device but never started' END
       WHERE occurrence_id = $1 AND status IN ('pending', 'delivered') RETURNING id`,
      [occurrenceId],
    );
    if (rows.length) this.logger.log(`occurrence ${occurrenceId}: ${rows.length} device(s) missed it`);
    return rows.length;
  }
}
