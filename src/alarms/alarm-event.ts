import type { AlarmDto } from './dto/alarm.dto.js';

/** The alarm events Loa publishes on the live stream and to webhooks. */
export const ALARM_EVENT_TYPES = ['alarm.opened', 'alarm.acknowledged', 'alarm.cleared'] as const;
export type AlarmEventType = (typeof ALARM_EVENT_TYPES)[number];

/** Something that happened to an alarm, with the area path that decides who may see it. */
export interface AlarmEvent {
  type: AlarmEventType;
  /** Materialised path of the device's area. */
  areaPath: string;
  alarm: AlarmDto;
}
