import type { DeviceTelemetry } from '../devices/device.entity.js';

/** Every BullMQ queue and job of Loa, with its payload type. */
export const QUEUES = {
  liveness: 'liveness',
  telemetry: 'telemetry',
} as const;

export const JOBS = {
  livenessSweep: 'liveness-sweep',
  persistTransitions: 'persist-transitions',
  telemetryBatch: 'telemetry-batch',
} as const;

export interface TelemetryBatchJob {
  items: { code: string; at: string; telemetry: DeviceTelemetry }[];
}
