import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject } from '@nestjs/common';
import type { Job } from 'bullmq';
import { JOBS, QUEUES } from '../../queues/queues.js';
import { DeviceCommands, type RetryCommandJob } from './device-commands.service.js';

/** Each round of a command's retry chain is one delayed job, taken by whichever instance is free. */
@Processor(QUEUES.commands)
export class CommandsProcessor extends WorkerHost {
  constructor(@Inject(DeviceCommands) private readonly commands: DeviceCommands) {
    super();
  }

  async process(job: Job<RetryCommandJob>): Promise<string> {
    if (job.name !== JOBS.retryCommand) throw new Error(`commands queue has no handler for job "${job.name}"`);
    return this.commands.retry(job.data);
  }
}
