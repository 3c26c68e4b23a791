import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { LivenessStore, type LivenessTransition } from './liveness.store.js';

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
    await this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO device_state_changes (device_id, from_state, to_state, cause, at, seq)
         SELECT d.id, v."from", v."to", v.cause, v.at, v.seq
           FROM jsonb_to_recordset($1::jsonb) AS v(seq bigint, code text, "from" text, "to" text, cause text, at timestamptz)
           JOIN devices d ON d.code = v.code
         ON CONFLICT (seq) DO NOTHING`,
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
    });
    const offline = batch.filter((t) => t.to === 'offline').length;
    this.logger.debug(`recorded ${batch.length} state changes (${offline} offline)`);
  }
}
