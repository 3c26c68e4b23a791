import { randomUUID } from 'node:crypto';
import {
  PRIORITY_RANK,
  type MediaPayload,
  type PlaybackEvent,
  type Priority,
  type SchedulePayload,
  type ScheduleItem,
} from '../src/broker/payloads.js';

/** A live relay has no duration; the simulator "plays" one for this long (before playbackSpeed). */
export const STREAM_PLAY_MS = 10_000;
/** setTimeout's ceiling (~24.8 days); an item further ahead is re-armed when this fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** How long a settled occurrence is remembered, so a newer schedule never replays it. */
const SETTLED_MEMORY_MS = 24 * 3600_000;

export interface PlayRequest {
  occurrenceId: string;
  priority: Priority;
  media: MediaPayload;
  volume?: number;
  /**
   * When it should start (epoch ms): a late start seeks past what was missed, as a
   * scheduled bulletin keeps to its slot. Absent: from the beginning, as soon as it is ready.
   */
  startMs?: number;
  source: 'schedule' | 'command';
}

export interface Playback extends PlayRequest {
  startMs: number;
  startedAtMs: number;
  endsAtMs: number;
}

export interface PlayerOptions {
  /** Every playback event, in order; the speaker publishes them. */
  emit(event: PlaybackEvent): void;
  /**
   * Resolves null when the media may be played, or the reason it may not (download failed,
   * sha256 mismatch). Without it nothing is downloaded and a play starts synchronously.
   */
  prepare?: (media: MediaPayload) => Promise<string | null>;
  /** Playback runs this many times faster than real time (tests and benchmarks). */
  playbackSpeed?: number;
  now?: () => number;
}

/**
 * What the speaker plays, and when: the stored Schedule, armed with a single timer for the
 * next due item (so a 48-hour schedule costs one timer, not hundreds), plus play commands.
 *
 * One thing plays at a time. A higher PRIORITY_RANK interrupts what plays (`interrupted`,
 * reason `preempted`). An equal or lower one arriving meanwhile is `skipped`, not queued:
 * by the time the current bulletin ends it would be late, and two bulletins back to back
 * is not what the operator scheduled; the as-run log shows the skip and why.
 */
export class Player {
  private stored: SchedulePayload | null = null;
  private current: (Playback & { timer: NodeJS.Timeout }) | null = null;
  /** Schedule items not yet settled, ordered by start. */
  private queue: { item: ScheduleItem; startMs: number }[] = [];
  private scheduleTimer: NodeJS.Timeout | null = null;
  /** Play commands with a future startAt, by occurrence. */
  private readonly pending = new Map<string, { request: PlayRequest; timer: NodeJS.Timeout }>();
  /** Occurrences already started, skipped, failed or stopped (epoch ms when): none plays twice. */
  private readonly settled = new Map<string, number>();
  private readonly speed: number;
  private readonly now: () => number;

  constructor(private readonly options: PlayerOptions) {
    this.speed = options.playbackSpeed ?? 1;
    if (!(this.speed > 0)) throw new Error(`playbackSpeed must be positive, got ${options.playbackSpeed}`);
    this.now = options.now ?? Date.now;
  }

  get schedule(): SchedulePayload | null {
    return this.stored;
  }

  get playing(): Playback | null {
    if (!this.current) return null;
    const { timer: _timer, ...playback } = this.current;
    return playback;
  }

  get playingOccurrenceId(): string | null {
    return this.current?.occurrenceId ?? null;
  }

  /** How long `media` plays on this speaker, in wall-clock ms. */
  playMs(media: MediaPayload): number {
    return ('durationMs' in media ? media.durationMs : STREAM_PLAY_MS) / this.speed;
  }

  /**
   * Stores a schedule newer than the one held and re-arms; returns false (and changes
   * nothing) when its version is not greater. A playing item the new schedule no longer
   * holds was cancelled by Loa: it stops at once.
   */
  applySchedule(schedule: SchedulePayload): boolean {
    if (this.stored && schedule.version <= this.stored.version) return false;
    this.stored = schedule;
    const cutoff = this.now() - SETTLED_MEMORY_MS;
    for (const [id, at] of this.settled) if (at < cutoff) this.settled.delete(id);
    const current = this.current;
    if (current?.source === 'schedule' && !schedule.items.some((i) => i.occurrenceId === current.occurrenceId)) {
      this.interrupt('cancelled');
    }
    this.arm();
    return true;
  }

  /**
   * Arms the stored schedule again, as firmware does at boot: an item that began less than
   * its duration ago resumes where it would be by now; one further back is skipped silently.
   */
  arm(): void {
    if (this.scheduleTimer) clearTimeout(this.scheduleTimer);
    this.scheduleTimer = null;
    this.queue = (this.stored?.items ?? [])
      .filter((item) => !this.settled.has(item.occurrenceId))
      .map((item) => ({ item, startMs: Date.parse(item.startAt) }))
      .filter(({ startMs }) => Number.isFinite(startMs))
      .sort((a, b) => a.startMs - b.startMs);
    this.fireDue();
  }

  /** A play command: now, or at its startAt. False when that occurrence is already settled. */
  command(request: PlayRequest): boolean {
    if (this.settled.has(request.occurrenceId) || this.pending.has(request.occurrenceId)) return false;
    const delay = (request.startMs ?? 0) - this.now();
    if (delay <= 0) {
      this.play(request);
      return true;
    }
    const timer = setTimeout(() => {
      this.pending.delete(request.occurrenceId);
      this.play(request);
    }, Math.min(delay, MAX_TIMER_MS));
    this.pending.set(request.occurrenceId, { request, timer });
    return true;
  }

  /** Stops that occurrence (playing or still to come), or whatever plays; false when nothing matched. */
  stop(occurrenceId?: string): boolean {
    if (this.current && (!occurrenceId || this.current.occurrenceId === occurrenceId)) {
      this.interrupt('stopped');
      return true;
    }
    if (!occurrenceId) return false;
    const waiting = this.pending.get(occurrenceId);
    if (waiting) {
      clearTimeout(waiting.timer);
      this.pending.delete(occurrenceId);
    }
    const scheduled = this.queue.some((q) => q.item.occurrenceId === occurrenceId);
    if (!waiting && !scheduled) return false;
    this.settled.set(occurrenceId, this.now());
    this.event('skipped', occurrenceId, 'stopped');
    return true;
  }

  /** The power goes: every timer and what plays vanish without a word. The stored schedule stays (local storage). */
  powerOff(): void {
    if (this.scheduleTimer) clearTimeout(this.scheduleTimer);
    if (this.current) clearTimeout(this.current.timer);
    for (const { timer } of this.pending.values()) clearTimeout(timer);
    this.scheduleTimer = this.current = null;
    this.pending.clear();
    this.settled.clear();
    this.queue = [];
  }

  /** A reboot: what plays is reported interrupted, then everything held in RAM is lost. */
  reboot(): void {
    if (this.current) this.interrupt('reboot');
    this.powerOff();
  }

  private fireDue(): void {
    this.scheduleTimer = null;
    const now = this.now();
    while (this.queue.length && this.queue[0].startMs <= now) {
      const { item, startMs } = this.queue.shift()!;
      if (this.settled.has(item.occurrenceId)) continue;
      if (now - startMs >= this.playMs(item.media)) {
        // Over before we could start it (the speaker was off): nothing to report.
        this.settled.set(item.occurrenceId, now);
        continue;
      }
      this.play({ ...item, startMs, source: 'schedule' });
    }
    if (this.queue.length) {
      const delay = Math.max(1, Math.min(this.queue[0].startMs - now, MAX_TIMER_MS));
      this.scheduleTimer = setTimeout(() => this.fireDue(), delay);
    }
  }

  private play(request: PlayRequest): void {
    this.settled.set(request.occurrenceId, this.now());
    if (!this.options.prepare) return this.begin(request);
    this.options.prepare(request.media).then(
      (failure) => (failure ? this.event('failed', request.occurrenceId, failure) : this.begin(request)),
      (err: unknown) => this.event('failed', request.occurrenceId, String(err)),
    );
  }

  private begin(request: PlayRequest): void {
    const now = this.now();
    const startMs = request.startMs ?? now;
    const endsAtMs = startMs + this.playMs(request.media);
    if (endsAtMs <= now) return this.event('skipped', request.occurrenceId, 'late: its time had passed');
    const current = this.current;
    if (current) {
      if (PRIORITY_RANK[request.priority] <= PRIORITY_RANK[current.priority]) {
        return this.event('skipped', request.occurrenceId, `busy: ${current.priority} occurrence ${current.occurrenceId} is playing`);
      }
      this.interrupt('preempted');
    }
    this.event('started', request.occurrenceId);
    const timer = setTimeout(() => this.finish(), endsAtMs - now);
    this.current = { ...request, startMs, startedAtMs: now, endsAtMs, timer };
  }

  private finish(): void {
    const current = this.current;
    if (!current) return;
    // Node dates a timer from the loop's cached clock, so it can fire a millisecond early
    // against Date.now(): never report `finished` before the item's end.
    const early = current.endsAtMs - this.now();
    if (early > 0) {
      current.timer = setTimeout(() => this.finish(), early);
      return;
    }
    this.current = null;
    this.event('finished', current.occurrenceId);
  }

  private interrupt(reason: string): void {
    const current = this.current;
    if (!current) return;
    clearTimeout(current.timer);
    this.current = null;
    this.event('interrupted', current.occurrenceId, reason);
  }

  private event(type: PlaybackEvent['type'], occurrenceId: string, reason: string | null = null): void {
    this.options.emit({ id: randomUUID(), type, occurrenceId, at: new Date(this.now()).toISOString(), reason });
  }
}
