import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { AppConfig } from '../config/app-config.js';
import { RedisService } from '../redis/redis.module.js';
import type { LiveEvent, LiveEventInput } from './live-event.js';

/** A stream id as Redis makes them: `<ms>-<seq>`. */
export const STREAM_ID = /^\d{1,15}-\d{1,15}$/;

/** Orders two stream ids (numerically, not as strings). */
export function compareIds(a: string, b: string): number {
  const [aMs, aSeq] = a.split('-').map(Number);
  const [bMs, bSeq] = b.split('-').map(Number);
  return aMs - bMs || aSeq - bSeq;
}

type StreamEntry = [id: string, fields: string[]];

/**
 * The live events of the whole cluster, in order, as one Redis Stream (`{p}:events`). Each
 * entry holds one field `e`: the event's JSON without its id, which is the entry id. The
 * stream keeps about EVENTS_RETAIN entries (approximate MAXLEN, so trimming costs a node at
 * a time rather than an entry at a time) for clients resuming with Last-Event-ID.
 */
@Injectable()
export class EventLog {
  readonly key: string;
  private readonly retain: string;

  constructor(
    @Inject(RedisService) private readonly redis: RedisService,
    @Inject(AppConfig) config: AppConfig,
  ) {
    this.key = redis.key('events');
    this.retain = String(config.EVENTS_RETAIN);
  }

  /** Appends the events in one round trip. */
  async append(events: LiveEventInput[], at: string): Promise<void> {
    const pipeline = this.redis.client.pipeline();
    for (const { type, areaPath, data } of events) {
      pipeline.xadd(this.key, 'MAXLEN', '~', this.retain, '*', 'e', JSON.stringify({ type, at, areaPath, data }));
    }
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([err]) => err);
    if (failed) throw failed[0];
  }

  /** Up to `count` events strictly after `id`, oldest first. */
  async after(id: string, count: number): Promise<LiveEvent[]> {
    const entries = (await this.redis.client.xrange(this.key, `(${id}`, '+', 'COUNT', count)) as StreamEntry[];
    return entries.map(toEvent);
  }

  /**
   * Whether every event after `id` is still in the stream. Trimming drops the oldest
   * entries, so a client is safe when its id is at or past the oldest retained one, or
   * nothing was ever trimmed. An id from after the newest event (Redis lost the stream and
   * started over) or a stream that is gone cannot be resumed either.
   */
  async canResumeAfter(id: string): Promise<boolean> {
    let info: Map<string, unknown>;
    try {
      info = pairs((await this.redis.client.xinfo('STREAM', this.key)) as unknown[]);
    } catch (err) {
      // No stream: nothing was ever published, or Redis lost it. Only a client that saw nothing lost nothing.
      if (/no such key/i.test(String(err))) return id === '0-0';
      throw err;
    }
    if (compareIds(id, String(info.get('last-generated-id'))) > 0) return false;
    const added = info.get('entries-added');
    const trimmed = added === undefined || Number(added) > Number(info.get('length'));
    if (!trimmed) return true;
    const first = info.get('first-entry') as StreamEntry | null;
    return first !== null && compareIds(id, first[0]) >= 0;
  }

  /** Id of the newest event, or `0-0` when there is none yet. */
  async newestId(): Promise<string> {
    const [last] = (await this.redis.client.xrevrange(this.key, '+', '-', 'COUNT', 1)) as StreamEntry[];
    return last?.[0] ?? '0-0';
  }

  /** A reader of new events on its own connection, because XREAD BLOCK holds the connection it runs on. */
  openTail(): EventTail {
    return new EventTail(this.redis.client.duplicate({ maxRetriesPerRequest: null }), this.key);
  }
}

/** Blocking reads of the stream's new entries, on a dedicated connection. */
export class EventTail {
  constructor(
    private readonly connection: Redis,
    private readonly key: string,
  ) {}

  /** Events after `id`, waiting up to `blockMs` for the first; empty when none came. */
  async read(id: string, blockMs: number, count: number): Promise<LiveEvent[]> {
    const reply = (await this.connection.xread('COUNT', count, 'BLOCK', blockMs, 'STREAMS', this.key, id)) as [string, StreamEntry[]][] | null;
    return reply?.[0]?.[1].map(toEvent) ?? [];
  }

  /** Ends the connection at once, failing a read in progress. */
  close(): void {
    this.connection.disconnect();
  }
}

function toEvent([id, fields]: StreamEntry): LiveEvent {
  const body = JSON.parse(fields[fields.indexOf('e') + 1]) as Omit<LiveEvent, 'id'>;
  return { id, type: body.type, at: body.at, areaPath: body.areaPath, data: body.data };
}

function pairs(flat: unknown[]): Map<string, unknown> {
  const map = new Map<string, unknown>();
  for (let i = 0; i + 1 < flat.length; i += 2) map.set(String(flat[i]), flat[i + 1]);
  return map;
}
