import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { AREA_CODE_PATTERN } from '../../areas/area.entity.js';
import { DEVICE_CODE_PATTERN } from '../../broker/topics.js';
import { PRIORITIES, type Priority } from '../../broker/payloads.js';
import { SCHEDULE_KINDS, type ScheduleKind } from '../broadcast.entity.js';

export class BroadcastTargetsDto {
  @ApiPropertyOptional({ type: [String], description: 'every device in each subtree, including devices added later' })
  @IsOptional() @IsArray() @ArrayMaxSize(1000)
  @Matches(AREA_CODE_PATTERN, { each: true, message: 'each area code must be an official area code' })
  areaCodes?: string[];

  @ApiPropertyOptional({ type: [String] })
  @IsOptional() @IsArray() @ArrayMaxSize(20_000)
  @Matches(DEVICE_CODE_PATTERN, { each: true, message: 'each device code must match ^[a-z0-9][a-z0-9-]{2,63}$' })
  deviceCodes?: string[];
}

/** `{kind:"now"}`, `{kind:"once", startAt}` or `{kind:"recurring", rrule, startAt, until?, timezone?}`. */
export class BroadcastScheduleDto {
  @ApiProperty({ enum: SCHEDULE_KINDS })
  @IsIn(SCHEDULE_KINDS)
  kind: ScheduleKind;

  @ApiPropertyOptional({ example: '2026-12-01T06:00:00+07:00' })
  @ValidateIf((s: BroadcastScheduleDto) => s.kind !== 'now')
  @IsISO8601({ strict: true, strictSeparator: true }, { message: 'startAt must be an ISO-8601 time with offset' })
  @Matches(/(Z|[+-]\d\d:?\d\d)$/, { message: 'startAt must carry an offset, e.g. +07:00' })
  startAt?: string;

  @ApiPropertyOptional({ example: 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=6,17;BYMINUTE=0' })
  @ValidateIf((s: BroadcastScheduleDto) => s.kind === 'recurring')
  @IsString() @MaxLength(500)
  rrule?: string;

  @ApiPropertyOptional()
  @ValidateIf((s: BroadcastScheduleDto) => s.kind === 'recurring' && s.until !== undefined)
  @IsISO8601({ strict: true, strictSeparator: true })
  @Matches(/(Z|[+-]\d\d:?\d\d)$/, { message: 'until must carry an offset, e.g. +07:00' })
  until?: string;

  @ApiPropertyOptional({ default: 'Asia/Ho_Chi_Minh' })
  @ValidateIf((s: BroadcastScheduleDto) => s.kind === 'recurring' && s.timezone !== undefined)
  @IsString() @MaxLength(64)
  timezone?: string;
}

export class CreateBroadcastDto {
  @ApiProperty()
  @IsUUID()
  bulletinId: string;

  @ApiProperty({ type: BroadcastTargetsDto })
  @IsObject() @ValidateNested() @Type(() => BroadcastTargetsDto)
  targets: BroadcastTargetsDto;

  @ApiProperty({ type: BroadcastScheduleDto })
  @IsObject() @ValidateNested() @Type(() => BroadcastScheduleDto)
  schedule: BroadcastScheduleDto;

  @ApiProperty({ enum: PRIORITIES })
  @IsIn(PRIORITIES)
  priority: Priority;

  @ApiPropertyOptional({ minimum: 0, maximum: 100 })
  @IsOptional() @IsInt() @Min(0) @Max(100)
  volume?: number;

  @ApiPropertyOptional({ description: 'length of one play in seconds; required for a live relay, whose length is unknown' })
  @IsOptional() @IsInt() @Min(1) @Max(6 * 3600)
  durationS?: number;

  @ApiPropertyOptional({ description: '`now` only: a device that has not played it this long after it was sent misses it', default: 600 })
  @IsOptional() @IsInt() @Min(5) @Max(86_400)
  expiresInS?: number;
}
