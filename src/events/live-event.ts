/**
 * What the live event stream (`GET /api/v1/events`) carries. Producers publish through
 * `LiveEvents`; each event names the area path it belongs to, and a subscriber receives it
 * only when that path lies in their scope (null: admins only).
 */
export type LiveEventType =
  | 'device.state'
  | 'command.ack'
  | 'delivery.progress'
  | 'alarm.opened'
  | 'alarm.acknowledged'
  | 'alarm.cleared';

export interface LiveEventInput {
  type: LiveEventType;
  /** Materialised path of the area the event is about (the device's commune); null: admins only. */
  areaPath: string | null;
  data: Record<string, unknown>;
}

export interface LiveEvent extends LiveEventInput {
  /** Stream id, monotonic; what a client sends back as Last-Event-ID. */
  id: string;
  /** ISO time the event was published. */
  at: string;
}

/** `data` of a `device.state` event: one liveness transition, as recorded in Postgres. */
export type DeviceStateEventData = {
  deviceCode: string;
  name: string;
  areaCode: string;
  from: string;
  to: string;
  cause: string;
  /** When the transition happened (for a timeout: the deadline that expired). */
  at: string;
};

/** `data` of a `command.ack` event: the first ack of a single-device API command. */
export type CommandAckEventData = {
  deviceCode: string;
  commandId: string;
  type: string;
  status: string;
};

/** `data` of a `delivery.progress` event: deliveries of one occurrence in one area that changed in one as-run batch. */
export type DeliveryProgressEventData = {
  occurrenceId: string;
  broadcastId: string;
  deliveries: { deviceCode: string; status: string }[];
};
