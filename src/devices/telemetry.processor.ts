import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject } from '@nestjs/common';
import type { Job } from 'bullmq';
import { DataSource } from 'typeorm';
import { JOBS, QUEUES, type TelemetryBatchJob } from '../queues/queues.js';

/** Persists a batch of heartbeat telemetry with one UPDATE. */
@Processor(QUEUES.telemetry)
export class TelemetryProcessor extends WorkerHost {
  constructor(@Inject(DataSource) private readonly db: DataSource) {
    super();
  }

  async process(job: Job<TelemetryBatchJob>): Promise<void> {
    if (job.name !== JOBS.telemetryBatch) throw new Error(`telemetry queue has no handler for job "${job.name}"`);
    await this.db.query(
      `UPDATE devices d
          SET telemetry = v.telemetry,
              firmware = COALESCE(v.telemetry->>'firmware', d.firmware),
              last_seen_at = v.at
         FROM jsonb_to_recordset($1::jsonb) AS v(code text, at timestamptz, telemetry jsonb)
        WHERE d.code = v.code AND d.decommissioned_at IS NULL
          AND (d.last_seen_at IS NULL OR d.last_seen_at <= v.at)`,
      [JSON.stringify(job.data.items)],
    );
  }
}
