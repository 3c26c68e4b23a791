import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { EventLog, type EventTail } from './event-log.repository.js';
import { eventFrame, type EventSubscriber } from './event-subscriber.js';

/** How long one XREAD waits for new events before asking again. */
const READ_BLOCK_MS = 5_000;
const READ_COUNT = 1_000;
const RETRY_AFTER_ERROR_MS = 1_000;

/**
 * The process's one reader of the event stream: a loop of XREAD BLOCK on its own Redis
 * connection hands each new event to every SSE subscriber of this process. A thousand open
 * dashboards cost one Redis connection, and each event is serialised once.
 */
@Injectable()
export class EventFanout implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(EventFanout.name);
  private readonly subscribers = new Set<EventSubscriber>();
  private tail: EventTail | null = null;
  private loop: Promise<void> | null = null;
  private keepAlive: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    @Inject(EventLog) private readonly log: EventLog,
    @Inject(AppConfig) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.tail = this.log.openTail();
    const position = await this.log.newestId();
    this.loop = this.follow(this.tail, position);
    this.keepAlive = setInterval(() => this.tick(), this.config.EVENTS_KEEPALIVE_S * 1000);
    this.keepAlive.unref();
  }

  /** Open streams would hold the HTTP server open: they end here, before it closes. */
  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.keepAlive) clearInterval(this.keepAlive);
    this.tail?.close();
    for (const subscriber of this.subscribers) subscriber.end();
    this.subscribers.clear();
    await this.loop;
  }

  add(subscriber: EventSubscriber): void {
    // A stream opened while the app shuts down would never be ended, and hold the server open.
    if (this.stopped) subscriber.end();
    else this.subscribers.add(subscriber);
  }

  remove(subscriber: EventSubscriber): void {
    this.subscribers.delete(subscriber);
  }

  private async follow(tail: EventTail, from: string): Promise<void> {
    let position = from;
    while (!this.stopped) {
      try {
        const events = await tail.read(position, READ_BLOCK_MS, READ_COUNT);
        for (const event of events) {
          position = event.id;
          // The loop still follows the stream without subscribers, so that one arriving later
          // starts from here; only the serialising is skipped.
          if (this.subscribers.size === 0) continue;
          const frame = eventFrame(event);
          for (const subscriber of this.subscribers) subscriber.offer(event, frame);
        }
      } catch (err) {
        if (this.stopped) return;
        this.logger.warn(`reading live events from Redis failed, retrying in ${RETRY_AFTER_ERROR_MS} ms: ${String(err)}`);
        await new Promise((resolve) => setTimeout(resolve, RETRY_AFTER_ERROR_MS));
      }
    }
  }

  /**
   * Keeps idle streams open through proxies, and ends streams whose access token has
   * expired: the client reconnects with a fresh token (and Last-Event-ID, losing nothing),
   * so a demoted or moved user does not keep a wider view than they now have.
   */
  private tick(): void {
    const now = Date.now();
    for (const subscriber of this.subscribers) {
      if (subscriber.expiresAt <= now) subscriber.end();
      else subscriber.send(': keep-alive\n\n');
    }
  }
}
