import type { DeviceTelemetry } from '../devices/device.entity.js';

/** Every BullMQ queue and job of Loa, with its payload type. */
export const QUEUES = {
  liveness: 'liveness',
  telemetry: 'telemetry',
  /** Horizon rolling, schedule publishing, missed marking, play retries. */
  scheduling: 'scheduling',
  /** Batches of acks, playback events and schedule confirmations for the as-run log. */
  asRun: 'as-run',
  /** Retries of single-device API commands. */
  commands: 'commands',
  /** The cluster-wide offline alarm sweep. */
  alarms: 'alarms',
  /** One job per (webhook, event), retried with exponential backoff. */
  webhooks: 'webhooks',
} as const;

export const JOBS = {
  livenessSweep: 'liveness-sweep',
  persistTransitions: 'persist-transitions',
  telemetryBatch: 'telemetry-batch',
  extendHorizon: 'extend-horizon',
  publishSchedules: 'publish-schedules',
  markMissed: 'mark-missed',
  retryPlay: 'retry-play',
  asRunBatch: 'as-run-batch',
  retryCommand: 'retry-command',
  alarmSweep: 'alarm-sweep',
  deliverWebhook: 'deliver-webhook',
  requeueWebhooks: 'requeue-webhooks',
} as const;

export interface TelemetryBatchJob {
  items: { code: string; at: string; telemetry: DeviceTelemetry }[];
}

export interface DeliverWebhookJob {
  deliveryId: string;
}
