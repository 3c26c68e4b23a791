import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { updateReturning } from '../common/postgres.js';
import type { AlarmRow } from './dto/alarm.dto.js';

const SELECT_ALARM = `
  SELECT al.id, d.code AS device_code, d.name AS device_name, a.code AS area_code, a.path AS area_path,
         al.opened_at, al.offline_since, al.acknowledged_at, al.acknowledged_by, al.note,
         al.returned_at, al.cleared_at, al.flaps
    FROM alarms al
    JOIN devices d ON d.id = al.device_id
    JOIN areas a ON a.id = d.area_id`;

/** The threshold in force for area `a`: its own, else its nearest ancestor's (NULL: the default). */
const NEAREST_THRESHOLD = `
  LEFT JOIN LATERAL (
    SELECT t.offline_after_s FROM alarm_thresholds t JOIN areas ta ON ta.id = t.area_id
     WHERE starts_with(a.path, ta.path)
     ORDER BY length(ta.path) DESC LIMIT 1
  ) th ON true`;

type Runner = DataSource | EntityManager;

export interface AlarmFilter {
  state: 'open' | 'cleared' | 'all';
  /** LIKE pattern of the area subtrees the caller asked for and may see; null: everywhere. */
  pathPatterns: string[];
  acknowledged?: boolean;
  skip: number;
  take: number;
}

/**
 * Alarm reads and the set-based statements of the sweep: each step is one statement over
 * all devices, never a loop per device, so a sweep costs the same few queries for ten
 * speakers or ten thousand.
 */
@Injectable()
export class AlarmsRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  /** One sweep at a time across the cluster; a tick that finds the lock taken skips. */
  async tryLockSweep(em: EntityManager): Promise<boolean> {
    const [row] = await em.query<{ locked: boolean }[]>(`SELECT pg_try_advisory_xact_lock(hashtext('loa.alarm-sweep')) AS locked`);
    return row.locked;
  }

  /**
   * Brings open alarms up to date with the liveness history recorded since the last sweep:
   * every drop after a return is a flap, even when the device came back and dropped again
   * between two sweeps.
   */
  async followLiveness(em: EntityManager): Promise<number> {
    const rows = await updateReturning<{ id: string }>(
      em,
      `UPDATE alarms al
          SET flaps = al.flaps + (SELECT count(*)::int FROM device_state_changes c
                                   WHERE c.device_id = al.device_id AND c.seq > al.state_seq AND c.to_state = 'offline'
                                     AND c.cause <> 'decommissioned'),
              returned_at = CASE WHEN d.state = 'online' THEN d.state_changed_at END,
              offline_since = CASE WHEN d.state = 'offline' THEN d.state_changed_at ELSE al.offline_since END,
              state_seq = d.state_seq
         FROM devices d
        WHERE d.id = al.device_id AND al.cleared_at IS NULL AND d.state_seq > al.state_seq
        RETURNING al.id`,
      [],
    );
    return rows.length;
  }

  /** Clears alarms of devices online for `holdS` seconds, and of decommissioned devices. */
  async clearReturned(em: EntityManager, holdS: number): Promise<string[]> {
    const rows = await updateReturning<{ id: string }>(
      em,
      `UPDATE alarms al SET cleared_at = now()
         FROM devices d
        WHERE d.id = al.device_id AND al.cleared_at IS NULL
          AND (d.decommissioned_at IS NOT NULL
               OR (d.state = 'online' AND al.returned_at IS NOT NULL AND al.returned_at <= now() - $1::int * interval '1 second'))
        RETURNING al.id`,
      [holdS],
    );
    return rows.map((r) => r.id);
  }

  /** Opens an alarm for every active device offline longer than its threshold that has none open. */
  async openOverdue(em: EntityManager, defaultAfterS: number): Promise<string[]> {
    const rows = await em.query<{ id: string }[]>(
      `INSERT INTO alarms (device_id, offline_since, opened_at, state_seq)
       SELECT d.id, d.state_changed_at, now(), d.state_seq
         FROM devices d
         JOIN areas a ON a.id = d.area_id
         ${NEAREST_THRESHOLD}
        WHERE d.state = 'offline' AND d.decommissioned_at IS NULL AND d.state_changed_at IS NOT NULL
          AND d.state_changed_at <= now() - COALESCE(th.offline_after_s, $1::int) * interval '1 second'
          AND NOT EXISTS (SELECT 1 FROM alarms o WHERE o.device_id = d.id AND o.cleared_at IS NULL)
       ON CONFLICT (device_id) WHERE cleared_at IS NULL DO NOTHING
       RETURNING id`,
      [defaultAfterS],
    );
    return rows.map((r) => r.id);
  }

  async findByIds(ids: string[], runner: Runner = this.db): Promise<AlarmRow[]> {
    if (!ids.length) return [];
    return runner.query<AlarmRow[]>(`${SELECT_ALARM} WHERE al.id = ANY($1::uuid[]) ORDER BY al.opened_at`, [ids]);
  }

  async findById(id: string): Promise<AlarmRow | null> {
    return (await this.findByIds([id]))[0] ?? null;
  }

  async list(filter: AlarmFilter): Promise<{ rows: AlarmRow[]; total: number }> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.state === 'open') where.push('al.cleared_at IS NULL');
    if (filter.state === 'cleared') where.push('al.cleared_at IS NOT NULL');
    if (filter.acknowledged !== undefined) where.push(`al.acknowledged_at IS ${filter.acknowledged ? 'NOT ' : ''}NULL`);
    for (const pattern of filter.pathPatterns) {
      params.push(pattern);
      where.push(`a.path LIKE $${params.length}`);
    }
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const [{ total }] = await this.db.query<{ total: string }[]>(
      `SELECT count(*) AS total FROM alarms al JOIN devices d ON d.id = al.device_id JOIN areas a ON a.id = d.area_id ${clause}`,
      params,
    );
    const rows = await this.db.query<AlarmRow[]>(
      `${SELECT_ALARM} ${clause} ORDER BY al.opened_at DESC, al.id LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, filter.take, filter.skip],
    );
    return { rows, total: Number(total) };
  }

  /** @returns false when someone acknowledged it first. */
  async acknowledge(em: EntityManager, id: string, by: { userId: string; username: string }, note: string | null): Promise<boolean> {
    const rows = await updateReturning<{ id: string }>(
      em,
      `UPDATE alarms SET acknowledged_at = now(), acknowledged_by_id = $2, acknowledged_by = $3, note = $4
        WHERE id = $1 AND acknowledged_at IS NULL
        RETURNING id`,
      [id, by.userId, by.username, note],
    );
    return rows.length === 1;
  }
}
