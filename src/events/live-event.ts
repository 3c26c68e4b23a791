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
