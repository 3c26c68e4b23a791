import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsUUID, Max, Min, registerDecorator, ValidateIf, type ValidationOptions } from 'class-validator';
import { PageQueryDto } from '../../../common/page.js';
import { COMMAND_STATUSES, type CommandStatus, type DeviceCommand } from '../../device-command.entity.js';

/** `play` is not here: plays belong to broadcasts, which track them in the as-run log. */
export const DEVICE_COMMAND_TYPES = ['stop', 'set_volume', 'sync', 'reboot'] as const;
export type DeviceCommandType = (typeof DEVICE_COMMAND_TYPES)[number];

export const DEFAULT_COMMAND_TTL_S = 300;

/** Refuses a field sent with a command type it means nothing to, instead of dropping it silently. */
function OnlyFor(type: DeviceCommandType, options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'onlyFor',
      target: target.constructor,
      propertyName,
      options: { message: `${propertyName} is only for a ${type} command`, ...options },
      validator: { validate: (_value: unknown, args) => (args?.object as { type?: string }).type === type },
    });
}

export class IssueCommandDto {
  @ApiProperty({ enum: DEVICE_COMMAND_TYPES })
  @IsIn(DEVICE_COMMAND_TYPES, { message: `type must be one of ${DEVICE_COMMAND_TYPES.join(', ')}` })
  type: DeviceCommandType;

  @ApiPropertyOptional({ minimum: 0, maximum: 100, description: 'required for set_volume, refused otherwise' })
  @ValidateIf((o: IssueCommandDto) => o.type === 'set_volume' || o.volume !== undefined)
  @OnlyFor('set_volume') @IsInt() @Min(0) @Max(100)
  volume?: number;

  @ApiPropertyOptional({ format: 'uuid', description: 'stop: only this occurrence; without it, whatever plays' })
  @ValidateIf((o: IssueCommandDto) => o.occurrenceId !== undefined)
  @OnlyFor('stop') @IsUUID()
  occurrenceId?: string;

  @ApiPropertyOptional({ minimum: 10, maximum: 86_400, default: DEFAULT_COMMAND_TTL_S, description: 'retried until acked or this many seconds pass' })
  @IsOptional() @IsInt() @Min(10) @Max(86_400)
  expiresInS?: number;
}

export class ListCommandsQueryDto extends PageQueryDto {}

export class IssuedCommandDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: DEVICE_COMMAND_TYPES }) type: DeviceCommandType;
  @ApiProperty({ enum: COMMAND_STATUSES }) status: CommandStatus;
  @ApiProperty() issuedAt: string;
  @ApiProperty() expiresAt: string;
  @ApiProperty({ description: 'how many times it was published to the device' }) attempts: number;
}

export class DeviceCommandDto extends IssuedCommandDto {
  @ApiProperty({ type: Object, description: 'exactly what went on the wire' }) payload: object;
  @ApiProperty({ type: String, nullable: true }) lastSentAt: string | null;
  @ApiProperty({ type: String, nullable: true }) ackedAt: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'as the device reported it' }) error: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'uuid' }) issuedById: string | null;
}

export function toDeviceCommandDto(c: DeviceCommand): DeviceCommandDto {
  return {
    id: c.id,
    type: c.type as DeviceCommandType,
    status: c.status,
    issuedAt: c.issuedAt.toISOString(),
    expiresAt: c.expiresAt.toISOString(),
    attempts: c.attempts,
    payload: c.payload,
    lastSentAt: c.lastSentAt?.toISOString() ?? null,
    ackedAt: c.ackedAt?.toISOString() ?? null,
    error: c.error,
    issuedById: c.issuedById,
  };
}
