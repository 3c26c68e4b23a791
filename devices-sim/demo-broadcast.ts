import type { PlaybackEvent } from '../src/broker/payloads.js';
import type { Fleet } from './fleet.js';
import type { LoaApi } from './loa-api.js';
import { pcmWav } from './wav.js';

/** Found again by this title on the next run, so a restarted demo reuses its bulletin. */
export const DEMO_BULLETIN_TITLE = 'Loa demo: bản tin thử của loa mô phỏng';
const DEMO_RRULE = 'FREQ=MINUTELY;INTERVAL=2';
const FIRST_PLAY_IN_MS = 30_000;
/** Ends on its own, so a demo database left alone does not plan plays for nobody forever. */
const DEMO_LASTS_MS = 12 * 3600_000;
const CHIME_MS = 3000;
const DEMO_TIMEZONE = 'Asia/Ho_Chi_Minh';

export interface DemoBroadcast {
  id: string;
  /** Cumulative playback events the fleet reported for this broadcast's plays. */
  tally(): Record<PlaybackEvent['type'], number>;
  /** The next start among the fleet's schedules, if any. */
  nextPlayAt(): Date | null;
  summary(): string;
}

/**
 * What an operator would do, done for the demo: upload a chime, write a bulletin of it,
 * submit and approve it, and broadcast it every two minutes to the fleet's area. A demo
 * broadcast left from an earlier run is cancelled first, so restarts do not pile them up.
 */
export async function startDemoBroadcast(
  api: LoaApi,
  fleet: Fleet,
  areaCode: string,
  options: { log?: (line: string) => void; firstPlayInMs?: number } = {},
): Promise<DemoBroadcast> {
  const log = options.log ?? (() => undefined);
  const bulletinId = await demoBulletin(api, log);
  await cancelEarlierRuns(api, bulletinId, log);
  const startAt = new Date(Date.now() + (options.firstPlayInMs ?? FIRST_PLAY_IN_MS));
  const created = await call<{ id: string; targetDeviceCount: number }>(
    api.request('POST', '/api/v1/broadcasts', {
      bulletinId,
      targets: { areaCodes: [areaCode] },
      schedule: {
        kind: 'recurring',
        rrule: DEMO_RRULE,
        startAt: startAt.toISOString(),
        until: new Date(startAt.getTime() + DEMO_LASTS_MS).toISOString(),
        timezone: DEMO_TIMEZONE,
      },
      priority: 'normal',
    }),
    'creating the demo broadcast',
  );
  log(
    `demo broadcast ${created.id}: a ${CHIME_MS / 1000} s chime to area ${areaCode} (${created.targetDeviceCount} speakers) ` +
      `every 2 minutes from ${clock(startAt)}`,
  );

  const occurrences = new Set<string>();
  const counts: Record<PlaybackEvent['type'], number> = { started: 0, finished: 0, failed: 0, interrupted: 0, skipped: 0 };
  for (const speaker of fleet.speakers) {
    speaker.on('schedule', (schedule) => {
      for (const item of schedule.items) if (item.broadcastId === created.id) occurrences.add(item.occurrenceId);
    });
    speaker.on('playback', (event) => {
      if (occurrences.has(event.occurrenceId)) counts[event.type]++;
    });
  }
  const nextPlayAt = () => {
    const now = Date.now();
    let next = Infinity;
    for (const speaker of fleet.speakers) {
      for (const item of speaker.schedule?.items ?? []) {
        const at = Date.parse(item.startAt);
        if (item.broadcastId === created.id && at > now && at < next) next = at;
      }
    }
    return Number.isFinite(next) ? new Date(next) : null;
  };
  return {
    id: created.id,
    tally: () => ({ ...counts }),
    nextPlayAt,
    summary() {
      const trouble = (['failed', 'interrupted', 'skipped'] as const).filter((t) => counts[t]).map((t) => `${counts[t]} ${t}`);
      const next = nextPlayAt();
      return (
        `demo broadcast: ${counts.started} started, ${counts.finished} finished` +
        (trouble.length ? `, ${trouble.join(', ')}` : '') +
        (next ? `; next play ${clock(next)}` : '')
      );
    },
  };
}

async function demoBulletin(api: LoaApi, log: (line: string) => void): Promise<string> {
  const found = await call<{ items: { id: string; title: string }[] }>(
    api.request('GET', `/api/v1/bulletins?status=approved&q=${encodeURIComponent(DEMO_BULLETIN_TITLE)}&pageSize=10`),
    'looking for the demo bulletin',
  );
  const existing = found.items.find((b) => b.title === DEMO_BULLETIN_TITLE);
  if (existing) return existing.id;

  const media = await call<{ id: string }>(api.upload('/api/v1/media', 'file', chimeWav(CHIME_MS), 'loa-demo-chime.wav', 'audio/wav'), 'uploading the demo chime');
  const bulletin = await call<{ id: string }>(
    api.request('POST', '/api/v1/bulletins', { title: DEMO_BULLETIN_TITLE, category: 'news', mediaId: media.id }),
    'creating the demo bulletin',
  );
  await call(api.request('POST', `/api/v1/bulletins/${bulletin.id}/submit`), 'submitting the demo bulletin');
  await call(api.request('POST', `/api/v1/bulletins/${bulletin.id}/approve`), 'approving the demo bulletin');
  log(`demo bulletin ${bulletin.id} uploaded, submitted and approved`);
  return bulletin.id;
}

async function cancelEarlierRuns(api: LoaApi, bulletinId: string, log: (line: string) => void): Promise<void> {
  const active = await call<{ items: { id: string }[] }>(
    api.request('GET', `/api/v1/broadcasts?bulletinId=${bulletinId}&state=active&pageSize=100`),
    'listing earlier demo broadcasts',
  );
  for (const { id } of active.items) await call(api.request('POST', `/api/v1/broadcasts/${id}/cancel`), `cancelling demo broadcast ${id}`);
  if (active.items.length) log(`cancelled ${active.items.length} demo broadcast(s) of an earlier run`);
}

/** Wall-clock time where the speakers are, which is how the operator set the broadcast. */
function clock(at: Date): string {
  return `${at.toLocaleTimeString('en-GB', { timeZone: DEMO_TIMEZONE })} (${DEMO_TIMEZONE})`;
}

async function call<T>(pending: Promise<{ status: number; body: unknown }>, what: string): Promise<T> {
  const { status, body } = await pending;
  if (status < 200 || status > 299) throw new Error(`${what}: HTTP ${status} ${JSON.stringify(body)}`);
  return body as T;
}

/** A two-tone chime: E5 then C5, each fading out. */
export function chimeWav(durationMs: number): Buffer {
  return pcmWav(durationMs, (t) => {
    const tone = t < durationMs / 2000 ? 659.25 : 523.25;
    const fade = Math.exp(-3 * ((t * 1000) % (durationMs / 2)) / (durationMs / 2));
    return 90 * fade * Math.sin(2 * Math.PI * tone * t);
  });
}
