import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import { JOBS, QUEUES } from '../queues/queues.js';
import { HorizonKeeper } from './horizon-keeper.service.js';
import { MissedPlays, type MarkMissedJob } from './missed-plays.service.js';
import { PlayDispatcher, type RetryPlayJob } from './play-dispatcher.service.js';
import { SchedulePublisher } from './schedule-publisher.service.js';

/** Rolling the horizon this often keeps it well past the 48 h the protocol promises. */
const HORIZON_EVERY_MS = 10 * 60_000;

@Processor(QUEUES.scheduling)
export class SchedulingProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly logger = new Logger(SchedulingProcessor.name);

  constructor(
    @InjectQueue(QUEUES.scheduling) private readonly queue: Queue,
    @Inject(HorizonKeeper) private readonly horizon: HorizonKeeper,
    @Inject(SchedulePublisher) private readonly schedules: SchedulePublisher,
    @Inject(MissedPlays) private readonly missed: MissedPlays,
    @Inject(PlayDispatcher) private readonly dispatcher: PlayDispatcher,
  ) {
    super();
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.queue.upsertJobScheduler(
      JOBS.extendHorizon,
      { every: HORIZON_EVERY_MS },
      { name: JOBS.extendHorizon, opts: { removeOnComplete: true, removeOnFail: 100 } },
    );
  }

  async process(job: Job): Promise<unknown> {
    switch (job.name) {
      case JOBS.extendHorizon:
        return this.horizon.extend();
      case JOBS.publishSchedules:
        return { published: await this.schedules.publishDirty() };
      case JOBS.markMissed:
        return { missed: await this.missed.markMissed(job.data as MarkMissedJob) };
      case JOBS.retryPlay:
        return { resent: await this.dispatcher.retry(job.data as RetryPlayJob) };
      default:
        this.logger.error(`scheduling queue has no handler for job "${job.name}"`);
        throw new Error(`scheduling queue has no handler for job "${job.name}"`);
    }
  }
}
