import { Inject, Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { LiveEvents } from '../events/live-events.service.js';
import type { AlarmEvent, AlarmEventType } from './alarm-event.js';
import { toAlarmDto, type AlarmRow } from './dto/alarm.dto.js';
import { WebhookDeliveries } from './webhooks/webhook-deliveries.service.js';

/** What to announce once the transaction that changed the alarms has committed. */
export interface PendingAnnouncement {
  events: AlarmEvent[];
  deliveryIds: string[];
}

/**
 * Tells the world about alarm changes: the live stream and webhooks. Webhook deliveries are
 * recorded inside the caller's transaction (an alarm never changes without its deliveries),
 * and announced only after it commits (no one hears of a change that was rolled back).
 */
@Injectable()
export class AlarmNotifier {
  private readonly logger = new Logger(AlarmNotifier.name);

  constructor(
    @Inject(LiveEvents) private readonly live: LiveEvents,
    @Inject(WebhookDeliveries) private readonly webhooks: WebhookDeliveries,
  ) {}

  async record(em: EntityManager, changes: { type: AlarmEventType; rows: AlarmRow[] }[]): Promise<PendingAnnouncement> {
    const events = changes.flatMap(({ type, rows }) => rows.map((row) => ({ type, areaPath: row.area_path, alarm: toAlarmDto(row) })));
    return { events, deliveryIds: await this.webhooks.record(em, events) };
  }

  announce({ events, deliveryIds }: PendingAnnouncement): void {
    if (!events.length) return;
    void this.live
      .publish(events.map((e) => ({ type: e.type, areaPath: e.areaPath, data: { ...e.alarm } })))
      .catch((err: unknown) => this.logger.error(`alarm events not published on the live stream: ${String(err)}`));
    // A failure here is repaired by the periodic re-queue of pending deliveries.
    void this.webhooks
      .enqueue(deliveryIds)
      .catch((err: unknown) => this.logger.error(`${deliveryIds.length} webhook deliveries not queued yet (re-queued within minutes): ${String(err)}`));
  }
}
