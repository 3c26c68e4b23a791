import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsUUID } from 'class-validator';
import { PageQueryDto } from '../../common/page.js';
import { PRIORITIES, type Priority } from '../../broker/payloads.js';
import { BROADCAST_STATES, SCHEDULE_KINDS, type BroadcastState, type ScheduleKind } from '../broadcast.entity.js';

export class ListBroadcastsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: BROADCAST_STATES })
  @IsOptional() @IsIn(BROADCAST_STATES)
  state?: BroadcastState;

  @ApiPropertyOptional({ enum: PRIORITIES })
  @IsOptional() @IsIn(PRIORITIES)
  priority?: Priority;

  @ApiPropertyOptional({ enum: SCHEDULE_KINDS })
  @IsOptional() @IsIn(SCHEDULE_KINDS)
  kind?: ScheduleKind;

  @ApiPropertyOptional()
  @IsOptional() @IsUUID()
  bulletinId?: string;
}
