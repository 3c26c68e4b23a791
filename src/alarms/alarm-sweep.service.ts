import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config.js';
import type { AlarmEvent } from './alarm-event.js';
import { AlarmNotifier } from './alarm-notifier.service.js';
import { AlarmsRepository } from './alarms.repository.js';

export interface SweepOutcome {
  opened: number;
  cleared: number;
  updated: number;
  /** false when another instance held the sweep lock. */
  ran: boolean;
}

/**
 * Opens, follows and clears offline alarms from what Postgres knows of device liveness.
 * One transaction per sweep: the alarm changes and their webhook deliveries commit together.
 */
@Injectable()
export class AlarmSweep {
  private readonly logger = new Logger(AlarmSweep.name);

  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(AlarmsRepository) private readonly alarms: AlarmsRepository,
    @Inject(AlarmNotifier) private readonly notifier: AlarmNotifier,
    @Inject(AppConfig) private readonly config: AppConfig,
  ) {}

  async run(): Promise<SweepOutcome> {
    const result = await this.db.transaction(async (em) => {
      if (!(await this.alarms.tryLockSweep(em))) return null;
      const updated = await this.alarms.followLiveness(em);
      const cleared = await this.alarms.clearReturned(em, this.config.ALARM_CLEAR_AFTER_S);
      const opened = await this.alarms.openOverdue(em, this.config.ALARM_OFFLINE_AFTER_S);
      const announcement = await this.notifier.record(em, [
        { type: 'alarm.cleared', rows: await this.alarms.findByIds(cleared, em) },
        { type: 'alarm.opened', rows: await this.alarms.findByIds(opened, em) },
      ]);
      return { announcement, outcome: { opened: opened.length, cleared: cleared.length, updated, ran: true } };
    });
    if (!result) return { opened: 0, cleared: 0, updated: 0, ran: false };
    this.notifier.announce(result.announcement);
    const { opened, cleared } = result.outcome;
    if (opened || cleared) this.logger.warn(`alarm sweep: ${opened} opened${this.sample(result.announcement.events)}, ${cleared} cleared`);
    return result.outcome;
  }

  /** A power cut opens thousands at once: name a few devices, not all of them. */
  private sample(events: AlarmEvent[]): string {
    const codes = events.filter((e) => e.type === 'alarm.opened').map((e) => e.alarm.deviceCode);
    if (!codes.length) return '';
    const more = codes.length > 10 ? ` and ${codes.length - 10} more` : '';
    return ` (${codes.slice(0, 10).join(', ')}${more})`;
  }
}
