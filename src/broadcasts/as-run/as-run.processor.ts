import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject } from '@nestjs/common';
import type { Job } from 'bullmq';
import { JOBS, QUEUES } from '../../queues/queues.js';
import type { AsRunBatchJob } from './as-run-batch.js';
import { AsRunWriter } from './as-run-writer.repository.js';
import { PlaybackRejections } from './playback-rejections.service.js';

/** Applies each batch of device reports to the as-run log, on whichever instance is free. */
@Processor(QUEUES.asRun)
export class AsRunProcessor extends WorkerHost {
  constructor(
    @Inject(AsRunWriter) private readonly writer: AsRunWriter,
    @Inject(PlaybackRejections) private readonly rejections: PlaybackRejections,
  ) {
    super();
  }

  async process(job: Job<AsRunBatchJob>): Promise<void> {
    if (job.name !== JOBS.asRunBatch) throw new Error(`as-run queue has no handler for job "${job.name}"`);
    const rejected = await this.writer.apply(job.data);
    for (const event of rejected) {
      this.rejections.reject(event.code, `event ${event.id}: occurrence ${event.occurrenceId} is not scheduled on this device`);
    }
  }
}
