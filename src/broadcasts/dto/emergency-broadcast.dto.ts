import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsObject, IsOptional, IsUUID, Max, Min, ValidateNested } from 'class-validator';
import type { BulletinDto } from '../../bulletins/dto/bulletin.dto.js';
import type { CreatedBroadcastDto } from './broadcast.response.js';
import { BroadcastTargetsDto } from './create-broadcast.dto.js';

/** An emergency: a `now` broadcast at priority `emergency` of a bulletin approved in the same step. */
export class EmergencyBroadcastDto {
  @ApiProperty({ format: 'uuid', description: 'a submitted bulletin (approved by this call) or an approved one' })
  @IsUUID()
  bulletinId: string;

  @ApiProperty({ type: BroadcastTargetsDto })
  @IsObject() @ValidateNested() @Type(() => BroadcastTargetsDto)
  targets: BroadcastTargetsDto;

  @ApiPropertyOptional({ minimum: 0, maximum: 100 })
  @IsOptional() @IsInt() @Min(0) @Max(100)
  volume?: number;

  @ApiPropertyOptional({ description: 'length of one play in seconds; required for a live relay, whose length is unknown' })
  @IsOptional() @IsInt() @Min(1) @Max(6 * 3600)
  durationS?: number;

  @ApiPropertyOptional({ description: 'a device that has not played it this long after it was sent misses it', default: 600 })
  @IsOptional() @IsInt() @Min(5) @Max(86_400)
  expiresInS?: number;
}

export interface EmergencyBroadcastResultDto {
  /** The bulletin as approved (reviewedById: the caller, unless it was approved before). */
  bulletin: BulletinDto;
  /** The same body POST /api/v1/broadcasts answers. */
  broadcast: CreatedBroadcastDto;
}
