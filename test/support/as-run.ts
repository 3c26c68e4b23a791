import { randomBytes, randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { DataSource } from 'typeorm';
import type { DeliveryStatus } from '../../src/broadcasts/delivery-status.js';
import type { BulletinCategory } from '../../src/bulletins/bulletin.entity.js';
import type { PlaybackEvent, Priority } from '../../src/broker/payloads.js';
import { deviceTopic } from '../../src/broker/topics.js';
import { aDevice, connect, publish } from './devices.js';
import { eventually, type TestApp } from './test-app.js';

export interface OccurrenceFixture {
  occurrenceId: string;
  broadcastId: string;
  /** Set for an immediate broadcast's occurrence: the id of its `play` command. */
  commandId: string | null;
  bulletinTitle: string;
  startAt: Date;
}

/**
 * Media → approved bulletin → broadcast → one occurrence, written straight into Postgres:
 * the as-run log only reads them. The broadcast is `completed`, so the scheduler leaves it alone.
 */
export async function anOccurrence(
  t: TestApp,
  opts: { startAt?: Date; immediate?: boolean; priority?: Priority; category?: BulletinCategory; title?: string } = {},
): Promise<OccurrenceFixture> {
  const db = t.app.get(DataSource);
  const startAt = opts.startAt ?? new Date();
  const title = opts.title ?? `Bulletin ${randomBytes(3).toString('hex')}`;
  const commandId = (opts.immediate ?? true) ? randomUUID() : null;
  const [media] = await db.query(
    `INSERT INTO media (kind, title, sha256, bytes, duration_ms, mime, storage_key)
     VALUES ('file', $1, $2, 1000, 60000, 'audio/mpeg', $3) RETURNING id`,
    [title, randomBytes(32).toString('hex'), `test/${randomUUID()}`],
  );
  const [bulletin] = await db.query(
    `INSERT INTO bulletins (title, category, media_id, status) VALUES ($1, $2, $3, 'approved') RETURNING id`,
    [title, opts.category ?? 'news', media.id],
  );
  const [broadcast] = await db.query(
    `INSERT INTO broadcasts (bulletin_id, media_id, priority, schedule_kind, start_at, timezone, duration_ms, state)
     VALUES ($1, $2, $3, $4, $5, 'Asia/Ho_Chi_Minh', 60000, 'completed') RETURNING id`,
    [bulletin.id, media.id, opts.priority ?? 'normal', commandId ? 'now' : 'once', startAt],
  );
  const [occurrence] = await db.query(
    `INSERT INTO occurrences (broadcast_id, start_at, end_at, command_id) VALUES ($1, $2, $3, $4) RETURNING id`,
    [broadcast.id, startAt, new Date(startAt.getTime() + 60_000), commandId],
  );
  return { occurrenceId: occurrence.id, broadcastId: broadcast.id, commandId, bulletinTitle: title, startAt };
}

/** The delivery row the scheduler would have created for this device. */
export async function aDelivery(
  t: TestApp,
  occurrenceId: string,
  deviceCode: string,
  fields: { status?: DeliveryStatus; scheduleVersion?: number | null; reason?: string | null } = {},
  within: { query(sql: string, params: unknown[]): Promise<{ id: string }[]> } = t.app.get(DataSource),
): Promise<string> {
  const rows = await within.query(
    `INSERT INTO deliveries (occurrence_id, device_id, status, schedule_version, reason)
     SELECT $1, d.id, $3, $4, $5 FROM devices d WHERE d.code = $2 RETURNING id`,
    [occurrenceId, deviceCode, fields.status ?? 'pending', fields.scheduleVersion ?? null, fields.reason ?? null],
  );
  if (!rows.length) throw new Error(`aDelivery: no device ${deviceCode}`);
  return rows[0].id;
}

export interface DeliveryRow {
  status: DeliveryStatus;
  deliveredAt: Date | null;
  startedAt: Date | null;
  endedAt: Date | null;
  reason: string | null;
}

export async function deliveryOf(t: TestApp, occurrenceId: string, deviceCode: string): Promise<DeliveryRow> {
  const [row] = await t.app.get(DataSource).query(
    `SELECT dl.status, dl.delivered_at AS "deliveredAt", dl.started_at AS "startedAt", dl.ended_at AS "endedAt", dl.reason
       FROM deliveries dl JOIN devices d ON d.id = dl.device_id
      WHERE dl.occurrence_id = $1 AND d.code = $2`,
    [occurrenceId, deviceCode],
  );
  if (!row) throw new Error(`no delivery of ${occurrenceId} to ${deviceCode}`);
  return row;
}

export async function playbackEventsOf(t: TestApp, occurrenceId: string): Promise<{ id: string; type: string }[]> {
  return t.app.get(DataSource).query(`SELECT id, type FROM playback_events WHERE occurrence_id = $1 ORDER BY received_at`, [occurrenceId]);
}

/** A connected speaker that reports about plays the way firmware does. */
export interface ReportingSpeaker {
  code: string;
  client: MqttClient;
  ack(commandId: string, status?: 'ok' | 'rejected' | 'failed', error?: string): Promise<void>;
  event(e: { occurrenceId: string; type: PlaybackEvent['type']; at?: Date; id?: string; reason?: string }): Promise<string>;
  heartbeat(scheduleVersion: number): Promise<void>;
}

export async function aReportingSpeaker(t: TestApp, areaCode: string): Promise<ReportingSpeaker> {
  const device = await aDevice(t, { areaCode });
  const client = await connect(t, device.code, device.secret);
  let seq = 0;
  return {
    code: device.code,
    client,
    ack: (commandId, status = 'ok', error) =>
      publish(client, deviceTopic(device.code, 'acks'), JSON.stringify({ commandId, status, ...(error ? { error } : {}) })),
    async event({ occurrenceId, type, at = new Date(), id = randomUUID(), reason }) {
      await publish(client, deviceTopic(device.code, 'events'), JSON.stringify({ id, type, occurrenceId, at: at.toISOString(), reason: reason ?? null }));
      return id;
    },
    heartbeat: (scheduleVersion) => publish(client, deviceTopic(device.code, 'heartbeat'), JSON.stringify({ seq: ++seq, scheduleVersion })),
  };
}

/** Resolves once everything the speaker sent before has been applied (batches apply in order). */
export async function settled(t: TestApp, speaker: ReportingSpeaker): Promise<void> {
  const marker = await anOccurrence(t, { immediate: false });
  await aDelivery(t, marker.occurrenceId, speaker.code);
  await speaker.event({ occurrenceId: marker.occurrenceId, type: 'started' });
  await eventually(async () => (await deliveryOf(t, marker.occurrenceId, speaker.code)).status === 'started');
}

export async function rejectedMessagesOf(t: TestApp, code: string): Promise<number> {
  const res = await t.http().get(`/api/v1/devices/${code}`).set('Authorization', t.auth).expect(200);
  return res.body.rejectedMessages;
}

/**
 * `n` devices in one area, each with a pending delivery of every given occurrence, inserted
 * in bulk (no MQTT): for throughput and export tests.
 */
export async function aFleetWithDeliveries(t: TestApp, areaCode: string, occurrenceIds: string | string[], n: number): Promise<string[]> {
  const prefix = `fleet-${randomBytes(3).toString('hex')}`;
  const db = t.app.get(DataSource);
  const rows: { code: string }[] = await db.query(
    `INSERT INTO devices (code, name, area_id, secret_hash, secret_rotated_at)
     SELECT $1 || '-' || i, 'Loa ' || i, a.id, 'not-a-hash', now() FROM areas a, generate_series(1, $3::int) i
      WHERE a.code = $2
     RETURNING code`,
    [prefix, areaCode, n],
  );
  await db.query(
    `INSERT INTO deliveries (occurrence_id, device_id)
     SELECT o, d.id FROM devices d, unnest($1::uuid[]) o WHERE d.code LIKE $2`,
    [[occurrenceIds].flat(), `${prefix}-%`],
  );
  return rows.map((r) => r.code);
}
