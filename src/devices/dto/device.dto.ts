import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsLatitude,
  IsLongitude,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
} from 'class-validator';
import { AREA_CODE_PATTERN } from '../../areas/area.entity.js';
import { DEVICE_CODE_PATTERN } from '../../broker/topics.js';
import { PageQueryDto } from '../../common/page.js';
import { DEVICE_STATES, STATE_CHANGE_CAUSES, type DeviceState, type StateChangeCause } from '../device-state.js';
import type { Device, DeviceTelemetry } from '../device.entity.js';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class CreateDeviceDto {
  @ApiProperty({ example: 'bk-vihuong-01', pattern: DEVICE_CODE_PATTERN.source })
  @IsString() @Matches(DEVICE_CODE_PATTERN, { message: 'code must match ^[a-z0-9][a-z0-9-]{2,63}$' })
  code: string;

  @ApiProperty({ example: 'Cụm loa thôn Nà Pài' })
  @Transform(trim) @IsString() @MinLength(1) @MaxLength(200)
  name: string;

  @ApiProperty({ example: '01975', description: 'official code of the area the speaker serves' })
  @IsString() @Matches(AREA_CODE_PATTERN, { message: 'areaCode is not an area code' })
  areaCode: string;

  @ApiPropertyOptional({ example: 22.18 })
  @IsOptional() @IsLatitude()
  latitude?: number;

  @ApiPropertyOptional({ example: 105.85 })
  @IsOptional() @IsLongitude()
  longitude?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: 100, default: 80 })
  @IsOptional() @IsInt() @Min(0) @Max(100)
  volume?: number;
}

/** Like @IsOptional, but an explicit null is validated (and refused) instead of skipped. */
const IsOmittable = () => ValidateIf((_, value) => value !== undefined);

export class UpdateDeviceDto {
  @ApiPropertyOptional()
  @IsOmittable() @Transform(trim) @IsString() @MinLength(1) @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({ description: 'moving a device closes its session so it reconnects under the new area' })
  @IsOmittable() @IsString() @Matches(AREA_CODE_PATTERN, { message: 'areaCode is not an area code' })
  areaCode?: string;

  @ApiPropertyOptional({ nullable: true, description: 'null clears it' })
  @ValidateIf((_, v) => v !== null && v !== undefined) @IsLatitude()
  latitude?: number | null;

  @ApiPropertyOptional({ nullable: true, description: 'null clears it' })
  @ValidateIf((_, v) => v !== null && v !== undefined) @IsLongitude()
  longitude?: number | null;

  @ApiPropertyOptional({ minimum: 0, maximum: 100 })
  @IsOmittable() @IsInt() @Min(0) @Max(100)
  volume?: number;
}

export class ListDevicesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: DEVICE_STATES })
  @IsOptional() @IsIn(DEVICE_STATES)
  state?: DeviceState;

  @ApiPropertyOptional({ description: 'devices anywhere in this area subtree' })
  @IsOptional() @IsString() @Matches(AREA_CODE_PATTERN, { message: 'areaCode is not an area code' })
  areaCode?: string;

  @ApiPropertyOptional({ description: 'part of the code or name, case-insensitive' })
  @IsOptional() @IsString() @MaxLength(100)
  q?: string;
}

export class StateChangesQueryDto extends PageQueryDto {}

export class DeviceDto {
  @ApiProperty() code: string;
  @ApiProperty() name: string;
  @ApiProperty() areaCode: string;
  @ApiProperty({ type: Number, nullable: true }) latitude: number | null;
  @ApiProperty({ type: Number, nullable: true }) longitude: number | null;
  @ApiProperty() volume: number;
  @ApiProperty({ enum: DEVICE_STATES }) state: DeviceState;
  @ApiProperty({ type: String, nullable: true }) stateChangedAt: string | null;
  @ApiProperty({ type: String, nullable: true }) lastSeenAt: string | null;
  @ApiProperty({ type: Object, nullable: true, description: 'the last heartbeat as sent' }) telemetry: DeviceTelemetry | null;
  @ApiProperty({ type: String, nullable: true }) firmware: string | null;
  @ApiProperty({ description: 'device messages dropped as invalid or denied' }) rejectedMessages: number;
  @ApiProperty({ type: String, nullable: true }) decommissionedAt: string | null;
  @ApiProperty() createdAt: string;
}

export class ProvisionedDeviceDto extends DeviceDto {
  @ApiProperty({ description: 'the MQTT password; shown once, stored only as a hash' })
  secret: string;
}

export class SecretDto {
  @ApiProperty() code: string;
  @ApiProperty({ description: 'the new MQTT password; shown once' }) secret: string;
}

export class StateChangeDto {
  @ApiProperty({ enum: DEVICE_STATES }) from: DeviceState;
  @ApiProperty({ enum: DEVICE_STATES }) to: DeviceState;
  @ApiProperty({ enum: STATE_CHANGE_CAUSES }) cause: StateChangeCause;
  @ApiProperty() at: string;
}


/** `lastSeenMs` from the liveness store is fresher than the batched column; the newer wins. */
export function toDeviceDto(device: Device, lastSeenMs: number | null, rejectedMessages: number): DeviceDto {
  const stored = device.lastSeenAt?.getTime() ?? null;
  const lastSeen = Math.max(stored ?? 0, lastSeenMs ?? 0) || null;
  return {
    code: device.code,
    name: device.name,
    areaCode: device.area.code,
    latitude: device.latitude,
    longitude: device.longitude,
    volume: device.volume,
    state: device.state,
    stateChangedAt: device.stateChangedAt?.toISOString() ?? null,
    lastSeenAt: lastSeen ? new Date(lastSeen).toISOString() : null,
    telemetry: device.telemetry,
    firmware: device.firmware,
    rejectedMessages,
    decommissionedAt: device.decommissionedAt?.toISOString() ?? null,
    createdAt: device.createdAt.toISOString(),
  };
}
