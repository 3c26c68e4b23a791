import type { COMMAND_ACK_STATUSES, PLAYBACK_EVENT_TYPES } from '../../broker/payloads.js';

/** A command ack as heard from a device; `at` is when Loa heard it. */
export interface AckReport {
  code: string;
  commandId: string;
  status: (typeof COMMAND_ACK_STATUSES)[number];
  error: string | null;
  at: string;
}

/** A heartbeat's `scheduleVersion`, the newest per device within a batch. */
export interface ScheduleVersionReport {
  code: string;
  version: number;
  at: string;
}

/** A PlaybackEvent; `at` is the device's clock, `receivedAt` Loa's. */
export interface PlaybackReport {
  code: string;
  id: string;
  type: (typeof PLAYBACK_EVENT_TYPES)[number];
  occurrenceId: string;
  at: string;
  reason: string | null;
  receivedAt: string;
}

/** Payload of one `as-run-batch` job: everything devices reported to one process in one flush interval. */
export interface AsRunBatchJob {
  acks: AckReport[];
  scheduleVersions: ScheduleVersionReport[];
  events: PlaybackReport[];
}
