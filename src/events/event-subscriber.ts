import type { ServerResponse } from 'node:http';
import { Logger } from '@nestjs/common';
import type { Principal } from '../auth/principal.js';
import { inScope } from '../auth/scope.js';
import { compareIds } from './event-log.repository.js';
import type { LiveEvent } from './live-event.js';

/**
 * A client that reads more slowly than events come is cut off once this much is waiting
 * in its socket buffer: it resumes with Last-Event-ID from Redis, rather than making the
 * process hold an ever-growing backlog in memory.
 */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** Live events held while a resuming client is replayed; past this the client is cut off and resumes again. */
const MAX_HELD_EVENTS = 50_000;

const logger = new Logger('EventStreams');

/** One SSE frame; the JSON has no raw newline, so one `data:` line carries it. */
export function eventFrame(event: LiveEvent): string {
  const { id, type, at, areaPath, data } = event;
  return `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify({ id, type, at, areaPath, data })}\n\n`;
}

/**
 * Tells a resuming client that events after its id are no longer kept (or never existed):
 * its view may have missed changes, so it reloads from the REST API. Shaped like an event,
 * with the id to resume from, so a client handles it like the others.
 */
export function resetFrame(id: string, lastEventId: string): string {
  const body = { id, type: 'reset', at: new Date().toISOString(), areaPath: null, data: { lastEventId } };
  return `id: ${id}\nevent: reset\ndata: ${JSON.stringify(body)}\n\n`;
}

/**
 * One open `GET /api/v1/events` response. It receives every event of the cluster from the
 * process's reader loop and writes those in its principal's scope. While a resuming
 * client is replayed from Redis, live events are held back and later written only if the
 * replay did not already carry them, so the client sees no gap and no duplicate.
 */
export class EventSubscriber {
  /** Live events held during the replay (with their frames); null once the subscriber is live. */
  private held: { event: LiveEvent; frame: string }[] | null;
  private lastId: string | null = null;
  private ended = false;

  constructor(
    readonly principal: Principal,
    private readonly res: ServerResponse,
    /** Epoch ms when the caller's access token expires; the stream ends then. */
    readonly expiresAt: number,
    { replaying }: { replaying: boolean },
  ) {
    this.held = replaying ? [] : null;
    res.once('close', () => (this.ended = true));
  }

  get closed(): boolean {
    return this.ended;
  }

  /**
   * From the reader loop: one event of the cluster, with its frame built once for all
   * subscribers. The reader may be behind the replay (its XREAD reply still on the way while
   * the replay's XRANGE already returned newer entries), so `write` drops an event the
   * client already has, here as in `goLive`.
   */
  offer(event: LiveEvent, frame: string): void {
    if (this.ended || !inScope(this.principal, event.areaPath)) return;
    if (this.held) {
      this.held.push({ event, frame });
      if (this.held.length > MAX_HELD_EVENTS) this.cutOff(`${this.held.length} live events piled up during its replay`);
      return;
    }
    this.write(frame, event.id);
  }

  /** Writes one replayed event; resolves once the socket can take more, so a long replay is paced by the client. */
  async replay(event: LiveEvent): Promise<void> {
    if (this.ended || !inScope(this.principal, event.areaPath)) return;
    const flushed = this.res.write(eventFrame(event));
    this.lastId = event.id;
    if (!flushed) await this.drained();
  }

  /** Marks where the replay starts: nothing at or before `id` is written from the held events. */
  startAfter(id: string): void {
    this.lastId = id;
  }

  /** Ends the replay: writes the held events the replay did not carry, then goes live. */
  goLive(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const { event, frame } of held) this.write(frame, event.id);
  }

  /** A frame that is not an event (a comment, a reset). */
  send(raw: string): void {
    if (this.ended) return;
    this.res.write(raw);
    this.cutOffIfSlow();
  }

  /** Ends the stream; one that still has unsent data (a client not reading) is dropped instead, so it cannot hold the server open. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.res.writableLength > 0) this.res.destroy();
    else this.res.end();
  }

  /** Writes a live or held event, unless the client already has it (at or before the last id written). */
  private write(frame: string, id: string): void {
    if (this.ended || (this.lastId !== null && compareIds(id, this.lastId) <= 0)) return;
    this.res.write(frame);
    this.lastId = id;
    this.cutOffIfSlow();
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.res.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      this.res.once('drain', done);
      this.res.once('close', done);
    });
  }

  private cutOffIfSlow(): void {
    if (this.res.writableLength > MAX_BUFFERED_BYTES) this.cutOff(`${this.res.writableLength} bytes unread`);
  }

  private cutOff(why: string): void {
    logger.warn(`event stream of ${this.principal.username} cut off (${why}); the client may resume with Last-Event-ID`);
    this.ended = true;
    this.res.destroy();
  }
}
