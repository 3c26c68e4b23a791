/**
 * The as-run life of one (occurrence, device):
 * pending → delivered → started → finished | failed | interrupted, or missed | preempted | cancelled.
 */
export const DELIVERY_STATUSES = [
  'pending',
  'delivered',
  'started',
  'finished',
  'failed',
  'interrupted',
  'missed',
  'preempted',
  'cancelled',
] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** Statuses a delivery can still leave; the rest are final. */
export const OPEN_DELIVERY_STATUSES = ['pending', 'delivered', 'started'] as const satisfies readonly DeliveryStatus[];
/** Not yet playing: these may still be missed, pre-empted or cancelled. */
export const UNPLAYED_DELIVERY_STATUSES = ['pending', 'delivered'] as const satisfies readonly DeliveryStatus[];
