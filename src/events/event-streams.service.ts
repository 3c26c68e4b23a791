import type { ServerResponse } from 'node:http';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Principal } from '../auth/principal.js';
import { EventFanout } from './event-fanout.service.js';
import { EventLog } from './event-log.repository.js';
import { EventSubscriber, resetFrame } from './event-subscriber.js';

/** Events read from Redis per XRANGE while replaying to a resuming client. */
const REPLAY_PAGE = 500;

/**
 * Opens `GET /api/v1/events` streams. A client without Last-Event-ID gets live events from
 * now. A resuming client first gets the events it missed, from Redis, then live ones; when
 * its id is no longer covered by what the stream retains it gets `event: reset` instead
 * (its view may have missed changes: reload from the REST API) and events from now on.
 */
@Injectable()
export class EventStreams {
  private readonly logger = new Logger(EventStreams.name);

  constructor(
    @Inject(EventLog) private readonly log: EventLog,
    @Inject(EventFanout) private readonly fanout: EventFanout,
  ) {}

  async open(principal: Principal, lastEventId: string | null, res: ServerResponse, expiresAt: number): Promise<void> {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      // nginx buffers proxied responses unless told not to, which would hold events back.
      'X-Accel-Buffering': 'no',
    });
    // Registered before anything is read from Redis (and before the client sees the
    // headers): an event published from here on is in the replay or held, never in neither.
    const subscriber = new EventSubscriber(principal, res, expiresAt, { replaying: lastEventId !== null });
    this.fanout.add(subscriber);
    if (subscriber.closed) return;
    res.once('close', () => this.fanout.remove(subscriber));
    res.flushHeaders();
    res.socket?.setNoDelay(true);
    if (lastEventId === null) return;
    try {
      await this.replay(subscriber, lastEventId);
      subscriber.goLive();
    } catch (err) {
      this.logger.warn(`event stream of ${principal.username} ended: missed events after ${lastEventId} not read: ${String(err)}`);
      subscriber.end();
    }
  }

  private async replay(subscriber: EventSubscriber, lastEventId: string): Promise<void> {
    let position = lastEventId;
    if (!(await this.log.canResumeAfter(lastEventId))) {
      position = await this.log.newestId();
      subscriber.send(resetFrame(position, lastEventId));
    }
    subscriber.startAfter(position);
    for (;;) {
      const page = await this.log.after(position, REPLAY_PAGE);
      for (const event of page) {
        if (subscriber.closed) return;
        await subscriber.replay(event);
      }
      if (page.length < REPLAY_PAGE) return;
      position = page[page.length - 1].id;
    }
  }
}
