import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import { JOBS, QUEUES, type DeliverWebhookJob } from '../../queues/queues.js';
import { WebhookDeliveries, WebhookRetry } from './webhook-deliveries.service.js';

const REQUEUE_EVERY_MS = 60_000;

/** Webhook attempts (retried by BullMQ with exponential backoff) and the periodic re-queue of stranded ones. */
@Processor(QUEUES.webhooks, { concurrency: 8 })
export class WebhookDeliveryProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly logger = new Logger(WebhookDeliveryProcessor.name);

  constructor(
    @InjectQueue(QUEUES.webhooks) private readonly queue: Queue,
    @Inject(WebhookDeliveries) private readonly deliveries: WebhookDeliveries,
  ) {
    super();
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.queue.upsertJobScheduler(
      JOBS.requeueWebhooks,
      { every: REQUEUE_EVERY_MS },
      { name: JOBS.requeueWebhooks, opts: { removeOnComplete: true, removeOnFail: 100 } },
    );
  }

  async process(job: Job): Promise<string | number> {
    switch (job.name) {
      case JOBS.deliverWebhook:
        return this.deliver(job as Job<DeliverWebhookJob>);
      case JOBS.requeueWebhooks: {
        const requeued = await this.deliveries.requeueStranded();
        if (requeued) this.logger.debug(`re-queued ${requeued} pending webhook deliveries (already queued ones are ignored)`);
        return requeued;
      }
      default:
        throw new Error(`webhooks queue has no handler for job "${job.name}"`);
    }
  }

  private async deliver(job: Job<DeliverWebhookJob>): Promise<string> {
    try {
      return await this.deliveries.attempt(job.data.deliveryId);
    } catch (err) {
      // A receiver's failure is recorded on the delivery row; anything else is ours to fix.
      if (!(err instanceof WebhookRetry)) this.logger.error(`webhook delivery ${job.data.deliveryId} not attempted: ${String(err)}`);
      throw err;
    }
  }
}
