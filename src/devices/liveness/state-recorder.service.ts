import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { DeviceStateEventData } from '../../events/live-event.js';
import { LiveEvents } from '../../events/live-events.service.js';
import { LivenessStore, type LivenessTransition } from './liveness.store.js';

/** A transition newly recorded, with what the live stream says about its device. */
interface RecordedTransition extends Omit<DeviceStateEventData, 'at'> {
  areaPath: string;
  at: Date;
}

/**
 * Writes liveness transitions from Redis into Postgres: one history row each, and the
 * device's current state. Safe to run anywhere, any number of times: rows are unique by
 * seq, and a device row only moves forward in seq.
 */
@Injectable()
export class StateRecorder {
  private readonly logger = new Logger(StateRecorder.name);

  constructor(
    @Inject(LivenessStore) private readonly store: LivenessStore,
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(LiveEvents) private readonly events: LiveEvents,
  ) {}

  /**
   * Redis keeps nothing on disk: after it restarts empty, devices Postgres holds online
   * would never time out. Restores them into the liveness store, each with a full heartbeat
   * timeout to prove itself.
   */
  async restoreOnlineDevices(): Promise<number> {
    const rows: { code: string }[] = await this.db.query(
      `SELECT code FROM devices WHERE state = 'online' AND decommissioned_at IS NULL`,
    );
    const restored = await this.store.restoreOnline(rows.map((r) => r.code));
    if (restored) this.logger.warn(`liveness store had lost ${restored} online device(s); restored from Postgres`);
    return restored;
  }

  /** Persists every pending transition; returns how many were taken from Redis. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const batch = await this.store.takeTransitions(1000);
      if (!batch.length) return total;
      try {
        await this.persist(batch);
      } catch (err) {
        await this.store.returnTransitions(batch);
        throw err;
      }
      total += batch.length;
    }
  }

  private async persist(batch: LivenessTransition[]): Promise<void> {
    const rows = JSON.stringify(
      batch.map((t) => ({ seq: t.seq, code: t.code, from: t.from, to: t.to, cause: t.cause, at: new Date(t.at).toISOString() })),
    );
    const recorded = await this.db.transaction(async (tx) => {
      // Only rows inserted now come back, so a batch persisted again announces nothing twice.
      const inserted: RecordedTransition[] = await tx.query(
        `WITH inserted AS (
           INSERT INTO device_state_changes (device_id, from_state, to_state, cause, at, seq)
           SELECT d.id, v."from", v."to", v.cause, v.at, v.seq
             FROM jsonb_to_recordset($1::jsonb) AS v(seq bigint, code text, "from" text, "to" text, cause text, at timestamptz)
             JOIN devices d ON d.code = v.code
           ON CONFLICT (seq) DO NOTHING
           RETURNING device_id, from_state, to_state, cause, at, seq
         )
         SELECT d.code AS "deviceCode", d.name, a.code AS "areaCode", a.path AS "areaPath",
                i.from_state AS "from", i.to_state AS "to", i.cause, i.at
           FROM inserted i JOIN devices d ON d.id = i.device_id JOIN areas a ON a.id = d.area_id
          ORDER BY i.seq`,
        [rows],
      );
      await tx.query(
        `UPDATE devices d
            SET state = v."to", state_changed_at = v.at, state_seq = v.seq
           FROM (SELECT DISTINCT ON (code) * FROM jsonb_to_recordset($1::jsonb)
                   AS r(seq bigint, code text, "to" text, at timestamptz) ORDER BY code, seq DESC) v
          WHERE d.code = v.code AND d.state_seq < v.seq`,
        [rows],
      );
      return inserted;
    });
    void this.events.publish(
      recorded.map(({ areaPath, at, ...data }) => ({ type: 'device.state', areaPath, data: { ...data, at: at.toISOString() } satisfies DeviceStateEventData })),
    );
    const offline = batch.filter((t) => t.to === 'offline').length;
    this.logger.debug(`recorded ${batch.length} state changes (${offline} offline)`);
  }
}
