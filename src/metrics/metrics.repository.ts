import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DEVICE_STATES, type DeviceState } from '../devices/device-state.js';

/** What /metrics reads from Postgres at scrape time: cheap aggregates only. */
@Injectable()
export class MetricsQueries {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  /** Devices in service by state, every state present (zeros included). */
  async devicesByState(): Promise<Record<DeviceState, number>> {
    const rows: { state: DeviceState; n: number }[] = await this.db.query(
      `SELECT state, count(*)::int AS n FROM devices WHERE decommissioned_at IS NULL GROUP BY state`,
    );
    const counts = Object.fromEntries(DEVICE_STATES.map((s) => [s, 0])) as Record<DeviceState, number>;
    for (const row of rows) counts[row.state] = row.n;
    return counts;
  }
}
