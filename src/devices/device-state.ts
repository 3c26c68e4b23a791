export const DEVICE_STATES = ['unknown', 'online', 'offline'] as const;
export type DeviceState = (typeof DEVICE_STATES)[number];

/**
 * Why a device changed state. The protocol names `connected`, `disconnected` and
 * `heartbeat-timeout`; `heartbeat` (back online by a heartbeat on a link that never
 * dropped) and `decommissioned` complete the set.
 */
export const STATE_CHANGE_CAUSES = [
  'connected',
  'heartbeat',
  'disconnected',
  'heartbeat-timeout',
  'decommissioned',
] as const;
export type StateChangeCause = (typeof STATE_CHANGE_CAUSES)[number];
