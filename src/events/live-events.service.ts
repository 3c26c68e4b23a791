import { Inject, Injectable, Logger } from '@nestjs/common';
import { EventLog } from './event-log.repository.js';
import type { LiveEventInput } from './live-event.js';

/**
 * Publishes live events for the SSE stream (`GET /api/v1/events`) of every instance.
 * Called from hot paths after their work is done: it never throws, and a Redis failure
 * costs the events (logged), never the caller's work.
 */
@Injectable()
export class LiveEvents {
  private readonly logger = new Logger(LiveEvents.name);

  constructor(@Inject(EventLog) private readonly log: EventLog) {}

  async publish(events: LiveEventInput[]): Promise<void> {
    if (!events.length) return;
    try {
      await this.log.append(events, new Date().toISOString());
    } catch (err) {
      const types = [...new Set(events.map((e) => e.type))].join(', ');
      this.logger.warn(`${events.length} live event(s) (${types}) lost, stream clients will not see them: ${String(err)}`);
    }
  }
}
