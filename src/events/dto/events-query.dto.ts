import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, Matches } from 'class-validator';
import { STREAM_ID } from '../event-log.repository.js';

export class EventsQueryDto {
  @ApiPropertyOptional({ example: '1764400000000-0', description: 'resume after this event, for clients that cannot set the Last-Event-ID header (the header wins)' })
  @IsOptional() @Matches(STREAM_ID, { message: 'lastEventId must be an event id such as 1764400000000-0' })
  lastEventId?: string;
}
