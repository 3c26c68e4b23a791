import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger } from '@nestjs/common';
import type { Job } from 'bullmq';
import type { DeliveryProgressEventData } from '../../events/live-event.js';
import { LiveEvents } from '../../events/live-events.service.js';
import { JOBS, QUEUES } from '../../queues/queues.js';
import type { AsRunBatchJob } from './as-run-batch.js';
import { AsRunWriter } from './as-run-writer.repository.js';
import { PlaybackRejections } from './playback-rejections.service.js';

/** Applies each batch of device reports to the as-run log, on whichever instance is free. */
@Processor(QUEUES.asRun)
export class AsRunProcessor extends WorkerHost {
  private readonly logger = new Logger(AsRunProcessor.name);

  constructor(
    @Inject(AsRunWriter) private readonly writer: AsRunWriter,
    @Inject(PlaybackRejections) private readonly rejections: PlaybackRejections,
    @Inject(LiveEvents) private readonly events: LiveEvents,
  ) {
    super();
  }

  async process(job: Job<AsRunBatchJob>): Promise<void> {
    if (job.name !== JOBS.asRunBatch) throw new Error(`as-run queue has no handler for job "${job.name}"`);
    const { rejected, progress } = await this.writer.apply(job.data).catch((err: unknown) => {
      // Rethrown: the batch is one transaction, so BullMQ's retry applies it whole.
      const { acks, scheduleVersions, events } = job.data;
      const what = `${acks.length} ack(s), ${scheduleVersions.length} schedule version(s), ${events.length} event(s)`;
      this.logger.warn(`as-run batch (${what}) not applied, attempt ${job.attemptsMade + 1}: ${String(err)}`);
      throw err;
    });
    void this.events.publish(
      progress.map(({ areaPath, occurrenceId, broadcastId, deliveries }) => ({
        type: 'delivery.progress',
        areaPath,
        data: { occurrenceId, broadcastId, deliveries } satisfies DeliveryProgressEventData,
      })),
    );
    for (const event of rejected) {
      this.rejections.reject(event.code, `event ${event.id}: occurrence ${event.occurrenceId} is not scheduled on this device`);
    }
  }
}
