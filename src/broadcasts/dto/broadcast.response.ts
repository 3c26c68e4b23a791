import type { Priority } from '../../broker/payloads.js';
import type { Broadcast, BroadcastState, ScheduleKind } from '../broadcast.entity.js';
import type { DeliveryStatus } from '../delivery-status.js';

export interface OccurrenceProgressDto {
  id: string;
  startAt: string;
  endAt: string;
  cancelledAt: string | null;
  /** Deliveries of this occurrence by status. */
  counts: Partial<Record<DeliveryStatus, number>>;
}

export interface BroadcastDto {
  id: string;
  bulletinId: string;
  mediaId: string;
  priority: Priority;
  volume: number | null;
  state: BroadcastState;
  schedule: {
    kind: ScheduleKind;
    startAt: string;
    rrule?: string;
    until?: string | null;
    timezone: string;
  };
  durationMs: number;
  expiresAt: string | null;
  targets: { areaCodes: string[]; deviceCodes: string[] };
  /** The deepest area holding every target; null: national (targets in several provinces). */
  areaCode: string | null;
  createdById: string | null;
  createdAt: string;
  cancelledAt: string | null;
  cancelledById: string | null;
}

export interface BroadcastDetailDto extends BroadcastDto {
  targetDeviceCount: number;
  occurrences: OccurrenceProgressDto[];
}

export interface CreatedBroadcastDto extends BroadcastDetailDto {
  /** Plays of other broadcasts pre-empted by this one, and plays of this one pre-empted by higher ones. */
  preempted: { others: number; own: number };
}

export function toBroadcastDto(b: Broadcast): BroadcastDto {
  return {
    id: b.id,
    bulletinId: b.bulletinId,
    mediaId: b.mediaId,
    priority: b.priority,
    volume: b.volume,
    state: b.state,
    schedule: {
      kind: b.scheduleKind,
      startAt: b.startAt.toISOString(),
      ...(b.scheduleKind === 'recurring' ? { rrule: b.rrule!, until: b.until?.toISOString() ?? null } : {}),
      timezone: b.timezone,
    },
    durationMs: b.durationMs,
    expiresAt: b.expiresAt?.toISOString() ?? null,
    targets: { areaCodes: b.targetAreaCodes, deviceCodes: b.targetDeviceCodes },
    areaCode: b.area?.code ?? null,
    createdById: b.createdById,
    createdAt: b.createdAt.toISOString(),
    cancelledAt: b.cancelledAt?.toISOString() ?? null,
    cancelledById: b.cancelledById,
  };
}
