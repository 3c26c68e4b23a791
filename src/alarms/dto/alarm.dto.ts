import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { AREA_CODE_PATTERN } from '../../areas/area.entity.js';
import { PageQueryDto } from '../../common/page.js';

export const ALARM_STATES = ['open', 'cleared'] as const;
export type AlarmState = (typeof ALARM_STATES)[number];

export class ListAlarmsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: [...ALARM_STATES, 'all'], default: 'open' })
  @IsOptional() @IsIn([...ALARM_STATES, 'all'])
  state: AlarmState | 'all' = 'open';

  @ApiPropertyOptional({ description: 'alarms of devices anywhere in this area subtree' })
  @IsOptional() @IsString() @Matches(AREA_CODE_PATTERN, { message: 'areaCode is not an area code' })
  areaCode?: string;

  @ApiPropertyOptional({ enum: ['true', 'false'] })
  @IsOptional() @IsIn(['true', 'false'])
  acknowledged?: 'true' | 'false';
}

export class AcknowledgeAlarmDto {
  @ApiPropertyOptional({ example: 'Đã báo thợ điện xã' })
  @IsOptional() @Transform(({ value }) => (typeof value === 'string' ? value.trim() : value)) @IsString() @MaxLength(2000)
  note?: string;
}

export class AlarmDto {
  @ApiProperty() id: string;
  @ApiProperty() deviceCode: string;
  @ApiProperty() deviceName: string;
  @ApiProperty() areaCode: string;
  @ApiProperty() openedAt: string;
  @ApiProperty({ description: 'start of the latest outage' }) offlineSince: string;
  @ApiProperty({ type: String, nullable: true }) acknowledgedAt: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'username' }) acknowledgedBy: string | null;
  @ApiProperty({ type: String, nullable: true }) note: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'when the device came back; null while offline' }) returnedAt: string | null;
  @ApiProperty({ type: String, nullable: true }) clearedAt: string | null;
  @ApiProperty({ description: 'drops after a return while the alarm was open' }) flaps: number;
  @ApiProperty({ enum: ALARM_STATES }) state: AlarmState;
}

/** An alarm row joined with its device and area, as the repository reads it. */
export interface AlarmRow {
  id: string;
  device_code: string;
  device_name: string;
  area_code: string;
  area_path: string;
  opened_at: Date;
  offline_since: Date;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
  note: string | null;
  returned_at: Date | null;
  cleared_at: Date | null;
  flaps: number;
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

export function toAlarmDto(row: AlarmRow): AlarmDto {
  return {
    id: row.id,
    deviceCode: row.device_code,
    deviceName: row.device_name,
    areaCode: row.area_code,
    openedAt: row.opened_at.toISOString(),
    offlineSince: row.offline_since.toISOString(),
    acknowledgedAt: iso(row.acknowledged_at),
    acknowledgedBy: row.acknowledged_by,
    note: row.note,
    returnedAt: iso(row.returned_at),
    clearedAt: iso(row.cleared_at),
    flaps: Number(row.flaps),
    state: row.cleared_at ? 'cleared' : 'open',
  };
}
