import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, OnApplicationBootstrap } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import { AppConfig } from '../config/app-config.js';
import { JOBS, QUEUES } from '../queues/queues.js';
import { AlarmSweep, type SweepOutcome } from './alarm-sweep.service.js';

/** The alarm sweep runs from a BullMQ job scheduler: one job per tick for the whole cluster. */
@Processor(QUEUES.alarms)
export class AlarmSweepProcessor extends WorkerHost implements OnApplicationBootstrap {
  constructor(
    @InjectQueue(QUEUES.alarms) private readonly queue: Queue,
    @Inject(AlarmSweep) private readonly sweep: AlarmSweep,
    @Inject(AppConfig) private readonly config: AppConfig,
  ) {
    super();
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.queue.upsertJobScheduler(
      JOBS.alarmSweep,
      { every: this.config.ALARM_SWEEP_S * 1000 },
      { name: JOBS.alarmSweep, opts: { removeOnComplete: true, removeOnFail: 100 } },
    );
  }

  async process(job: Job): Promise<SweepOutcome> {
    if (job.name !== JOBS.alarmSweep) throw new Error(`alarms queue has no handler for job "${job.name}"`);
    return this.sweep.run();
  }
}
