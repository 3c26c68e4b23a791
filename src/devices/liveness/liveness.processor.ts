import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import { AppConfig } from '../../config/app-config.js';
import { JOBS, QUEUES } from '../../queues/queues.js';
import { LivenessStore } from './liveness.store.js';
import { StateRecorder } from './state-recorder.service.js';

/**
 * The liveness sweep runs from a BullMQ job scheduler: one job per tick for the whole
 * cluster, taken by whichever instance is free. `persist-transitions` jobs are queued after
 * connects and heartbeats change a state, so the history is written within moments
 * instead of at the next tick.
 */
@Processor(QUEUES.liveness)
export class LivenessProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly logger = new Logger(LivenessProcessor.name);

  constructor(
    @InjectQueue(QUEUES.liveness) private readonly queue: Queue,
    @Inject(LivenessStore) private readonly store: LivenessStore,
    @Inject(StateRecorder) private readonly recorder: StateRecorder,
    @Inject(AppConfig) private readonly config: AppConfig,
  ) {
    super();
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.recorder.restoreOnlineDevices();
    await this.queue.upsertJobScheduler(
      JOBS.livenessSweep,
      { every: this.config.LIVENESS_SWEEP_S * 1000 },
      { name: JOBS.livenessSweep, opts: { removeOnComplete: true, removeOnFail: 100 } },
    );
  }

  async process(job: Job): Promise<{ swept: number; recorded: number }> {
    switch (job.name) {
      case JOBS.livenessSweep: {
        for (const { instanceId, devices } of await this.store.releaseLostInstances()) {
          this.logger.warn(
            `broker instance ${instanceId} stopped renewing its lease (crashed or cut off): ` +
              `${devices} device(s) still counted online through it go offline unless they reconnect within ${this.config.OFFLINE_GRACE_S} s`,
          );
        }
        const swept = await this.store.sweep();
        const recorded = await this.recorder.drain();
        if (swept) this.logger.log(`liveness sweep: ${swept} device(s) went offline`);
        return { swept, recorded };
      }
      case JOBS.persistTransitions:
        return { swept: 0, recorded: await this.recorder.drain() };
      default:
        throw new Error(`liveness queue has no handler for job "${job.name}"`);
    }
  }
}
