import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { MediaPayload, PlaybackEvent, Priority, ScheduleItem, SchedulePayload } from '../src/broker/payloads.js';
import { Player, STREAM_PLAY_MS } from './player.js';

const T0 = Date.parse('2026-03-01T06:00:00+07:00');
const file = (durationMs: number): MediaPayload => ({ url: 'http://loa/media/x', sha256: 'a'.repeat(64), bytes: 1, durationMs, mime: 'audio/wav' });
const item = (startOffsetMs: number, durationMs = 10_000, priority: Priority = 'normal'): ScheduleItem => ({
  occurrenceId: randomUUID(),
  broadcastId: randomUUID(),
  startAt: new Date(T0 + startOffsetMs).toISOString(),
  priority,
  media: file(durationMs),
});
const schedule = (version: number, items: ScheduleItem[]): SchedulePayload => ({
  version,
  generatedAt: new Date(T0).toISOString(),
  timezone: 'Asia/Ho_Chi_Minh',
  items,
});

describe(Player.name, () => {
  let events: PlaybackEvent[];
  let player: Player;
  const seen = () => events.map((e) => `${e.type} ${e.occurrenceId}${e.reason ? ` (${e.reason})` : ''}`);

  beforeEach(() => {
    jest.useFakeTimers({ now: T0 });
    events = [];
    player = new Player({ emit: (e) => events.push(e) });
  });
  afterEach(() => {
    player.powerOff();
    jest.useRealTimers();
  });

  it('plays a schedule item at its time and finishes after its duration', () => {
    const at1s = item(1000, 5000);
    player.applySchedule(schedule(1, [at1s]));

    jest.advanceTimersByTime(999);
    expect(events).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(seen()).toEqual([`started ${at1s.occurrenceId}`]);
    expect(player.playing?.occurrenceId).toBe(at1s.occurrenceId);
    jest.advanceTimersByTime(5000);

    expect(seen()).toEqual([`started ${at1s.occurrenceId}`, `finished ${at1s.occurrenceId}`]);
    expect(events[0].at).toBe(new Date(T0 + 1000).toISOString());
    expect(player.playing).toBeNull();
  });

  it('ignores a schedule whose version is not greater than the stored one', () => {
    player.applySchedule(schedule(5, [item(1000)]));

    expect(player.applySchedule(schedule(5, []))).toBe(false);
    expect(player.applySchedule(schedule(4, []))).toBe(false);

    expect(player.schedule?.version).toBe(5);
    jest.advanceTimersByTime(1000);
    expect(events.map((e) => e.type)).toEqual(['started']);
  });

  it('cancels items a newer schedule leaves out, stopping the one that plays', () => {
    const playingOne = item(0, 5000);
    const later = item(8000);
    player.applySchedule(schedule(1, [playingOne, later]));
    jest.advanceTimersByTime(1000);

    player.applySchedule(schedule(2, []));
    jest.advanceTimersByTime(20_000);

    expect(seen()).toEqual([`started ${playingOne.occurrenceId}`, `interrupted ${playingOne.occurrenceId} (cancelled)`]);
  });

  it('resumes an item it boots into within its duration, and skips silently one already over', () => {
    const over = item(-20_000, 10_000);
    const midway = item(-4000, 10_000);
    player.applySchedule(schedule(1, [over, midway]));

    expect(seen()).toEqual([`started ${midway.occurrenceId}`]);
    jest.advanceTimersByTime(6000);
    expect(seen()).toEqual([`started ${midway.occurrenceId}`, `finished ${midway.occurrenceId}`]);
  });

  it('never plays an occurrence twice when a newer schedule still holds it', () => {
    const first = item(0, 2000);
    player.applySchedule(schedule(1, [first]));
    jest.advanceTimersByTime(500);

    player.applySchedule(schedule(2, [first, item(60_000)]));
    jest.advanceTimersByTime(1500);

    expect(seen()).toEqual([`started ${first.occurrenceId}`, `finished ${first.occurrenceId}`]);
  });

  it('lets a higher priority interrupt, and skips an equal or lower one that arrives meanwhile', () => {
    const normal = item(0, 10_000);
    player.applySchedule(schedule(1, [normal]));
    const emergency = { occurrenceId: randomUUID(), priority: 'emergency' as const, media: file(3000), source: 'command' as const };
    const high = { occurrenceId: randomUUID(), priority: 'high' as const, media: file(3000), source: 'command' as const };

    player.command(emergency);
    player.command(high);
    jest.advanceTimersByTime(3000);

    expect(events.map((e) => [e.type, e.occurrenceId, e.reason])).toEqual([
      ['started', normal.occurrenceId, null],
      ['interrupted', normal.occurrenceId, 'preempted'],
      ['started', emergency.occurrenceId, null],
      ['skipped', high.occurrenceId, expect.stringContaining('busy')],
      ['finished', emergency.occurrenceId, null],
    ]);
  });

  it('plays a command at its startAt, and stops what plays on request', () => {
    const occurrenceId = randomUUID();
    player.command({ occurrenceId, priority: 'high', media: { streamUrl: 'http://relay/live' }, startMs: T0 + 2000, source: 'command' });

    jest.advanceTimersByTime(2000);
    expect(seen()).toEqual([`started ${occurrenceId}`]);
    expect(player.stop('some-other-occurrence')).toBe(false);
    expect(player.stop()).toBe(true);

    expect(seen()).toEqual([`started ${occurrenceId}`, `interrupted ${occurrenceId} (stopped)`]);
  });

  it('plays a stream for a fixed time, scaled by playbackSpeed', () => {
    const fast = new Player({ emit: (e) => events.push(e), playbackSpeed: 10 });
    const occurrenceId = randomUUID();

    fast.command({ occurrenceId, priority: 'normal', media: { streamUrl: 'http://relay/live' }, source: 'command' });
    jest.advanceTimersByTime(STREAM_PLAY_MS / 10);

    expect(seen()).toEqual([`started ${occurrenceId}`, `finished ${occurrenceId}`]);
  });

  it('reports failed, and does not play, media that is not ready', async () => {
    const failing = new Player({ emit: (e) => events.push(e), prepare: async () => 'sha256 mismatch' });
    const occurrenceId = randomUUID();

    failing.command({ occurrenceId, priority: 'normal', media: file(1000), source: 'command' });
    await jest.advanceTimersByTimeAsync(2000);

    expect(seen()).toEqual([`failed ${occurrenceId} (sha256 mismatch)`]);
  });
});
