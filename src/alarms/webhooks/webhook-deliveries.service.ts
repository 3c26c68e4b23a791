import { randomUUID } from 'node:crypto';
import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Queue } from 'bullmq';
import { DataSource, Repository, type EntityManager } from 'typeorm';
import { AppConfig } from '../../config/app-config.js';
import { pageOf, type Page } from '../../common/page.js';
import { updateReturning } from '../../common/postgres.js';
import { JOBS, QUEUES, type DeliverWebhookJob } from '../../queues/queues.js';
import type { AlarmEvent } from '../alarm-event.js';
import { toWebhookDeliveryDto, type ListWebhookDeliveriesQueryDto, type WebhookDeliveryDto } from './dto/webhook.dto.js';
import { WebhookDelivery, type WebhookDeliveryStatus } from './webhook-delivery.entity.js';
import { WebhookSender } from './webhook-sender.js';

/** A failed attempt with attempts left: BullMQ schedules the next one after its backoff. */
export class WebhookRetry extends Error {}

/** A delivery still pending this long after its event has lost its job (crash before enqueueing, lost Redis). */
const STRANDED_AFTER_S = 60;

/**
 * The webhook outbox. Delivery rows are written in the same transaction as the alarm change
 * they announce; their jobs are queued after commit, and a periodic pass re-queues any row
 * whose job never made it, so an event is delivered at least once or ends as a dead letter.
 */
@Injectable()
export class WebhookDeliveries {
  private readonly logger = new Logger(WebhookDeliveries.name);

  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    @InjectRepository(WebhookDelivery) private readonly deliveries: Repository<WebhookDelivery>,
    @InjectQueue(QUEUES.webhooks) private readonly queue: Queue<DeliverWebhookJob>,
    @Inject(WebhookSender) private readonly sender: WebhookSender,
    @Inject(AppConfig) private readonly config: AppConfig,
  ) {}

  /** One delivery per enabled webhook that wants each event (its type, its area subtree). */
  async record(em: EntityManager, events: AlarmEvent[]): Promise<string[]> {
    if (!events.length) return [];
    const at = new Date().toISOString();
    const rows = events.map((e) => {
      const eventId = randomUUID();
      return {
        event_id: eventId,
        event_type: e.type,
        alarm_id: e.alarm.id,
        area_path: e.areaPath,
        body: JSON.stringify({ id: eventId, type: e.type, at, data: e.alarm }),
      };
    });
    const inserted = await em.query<{ id: string }[]>(
      `INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, alarm_id, body)
       SELECT w.id, e.event_id, e.event_type, e.alarm_id, e.body
         FROM jsonb_to_recordset($1::jsonb) AS e(event_id uuid, event_type text, alarm_id uuid, area_path text, body text)
         JOIN webhooks w ON w.enabled AND e.event_type = ANY(w.events)
         LEFT JOIN areas wa ON wa.id = w.area_id
        WHERE w.area_id IS NULL OR starts_with(e.area_path, wa.path)
       RETURNING id`,
      [JSON.stringify(rows)],
    );
    return inserted.map((r) => r.id);
  }

  /** The job id is the delivery id, so queueing a delivery twice runs it once. */
  async enqueue(deliveryIds: string[]): Promise<void> {
    if (!deliveryIds.length) return;
    await this.queue.addBulk(
      deliveryIds.map((deliveryId) => ({
        name: JOBS.deliverWebhook,
        data: { deliveryId },
        opts: {
          jobId: deliveryId,
          attempts: this.config.WEBHOOK_MAX_ATTEMPTS,
          backoff: { type: 'exponential', delay: this.config.WEBHOOK_BACKOFF_MS },
        },
      })),
    );
  }

  /**
   * Pending deliveries whose job is gone are queued again; those whose job failed for good
   * without settling the row (the database was down during the last attempt) are retried.
   */
  async requeueStranded(): Promise<number> {
    const rows = await this.db.query<{ id: string }[]>(
      `SELECT id FROM webhook_deliveries
        WHERE status = 'pending' AND created_at < now() - $1::int * interval '1 second'
        ORDER BY created_at LIMIT 1000`,
      [STRANDED_AFTER_S],
    );
    const jobs = await Promise.all(rows.map((r) => this.queue.getJob(r.id)));
    const missing = rows.filter((_, i) => !jobs[i]).map((r) => r.id);
    const failed = jobs.filter((job) => job?.finishedOn && job.failedReason);
    await this.enqueue(missing);
    await Promise.all(failed.map((job) => job!.retry('failed')));
    return missing.length + failed.length;
  }

  /**
   * One attempt. Throws when a retry should follow, so BullMQ schedules it with backoff;
   * the row, not the job, counts attempts, so a re-queued delivery still ends after
   * WEBHOOK_MAX_ATTEMPTS.
   */
  async attempt(deliveryId: string): Promise<WebhookDeliveryStatus | 'skipped'> {
    const delivery = await this.deliveries.findOne({ where: { id: deliveryId }, relations: { webhook: true } });
    if (!delivery || delivery.status !== 'pending') return 'skipped';
    const { webhook } = delivery;
    if (!webhook.enabled) {
      await this.finish(delivery.id, 'dead', { status: null, error: 'webhook disabled before delivery' }, false);
      return 'dead';
    }
    const outcome = await this.sender.send({
      url: webhook.url,
      secret: webhook.secret,
      deliveryId: delivery.id,
      eventType: delivery.eventType,
      body: delivery.body,
    });
    const attempts = delivery.attempts + 1;
    const max = this.config.WEBHOOK_MAX_ATTEMPTS;
    const status: WebhookDeliveryStatus = outcome.delivered ? 'delivered' : attempts >= max ? 'dead' : 'pending';
    await this.finish(delivery.id, status, outcome, true);
    if (status === 'dead') {
      this.logger.warn(
        `webhook ${webhook.id} (${webhook.url}): ${delivery.eventType} delivery ${delivery.id} dead after ${attempts} attempt(s), last: ${outcome.error}; ` +
          `fix the receiver, then see GET /api/v1/webhooks/${webhook.id}/deliveries?status=dead`,
      );
    }
    if (status === 'pending') throw new WebhookRetry(`webhook ${webhook.id} delivery ${delivery.id}: attempt ${attempts}/${max} failed: ${outcome.error}`);
    return status;
  }

  async list(webhookId: string, query: ListWebhookDeliveriesQueryDto): Promise<Page<WebhookDeliveryDto>> {
    const [rows, total] = await this.deliveries.findAndCount({
      where: { webhookId, ...(query.status ? { status: query.status } : {}) },
      order: { createdAt: 'DESC', id: 'ASC' },
      skip: query.skip,
      take: query.pageSize,
    });
    return pageOf(rows.map(toWebhookDeliveryDto), total, query);
  }

  private async finish(
    id: string,
    status: WebhookDeliveryStatus,
    outcome: { status: number | null; error: string | null },
    attempted: boolean,
  ): Promise<void> {
    await updateReturning(
      this.db,
      `UPDATE webhook_deliveries
          SET status = $2::text, attempts = attempts + $3::int, last_status = CASE WHEN $3::int > 0 THEN $4::int ELSE last_status END, last_error = $5,
              last_attempt_at = CASE WHEN $3::int > 0 THEN now() ELSE last_attempt_at END,
              delivered_at = CASE WHEN $2::text = 'delivered' THEN now() END
        WHERE id = $1 AND status = 'pending'
        RETURNING id`,
      [id, status, attempted ? 1 : 0, outcome.status, outcome.error],
    );
  }
}
