import type { IncomingMessage, ServerResponse } from 'node:http';
import { BadRequestException, Controller, Get, Headers, Inject, Query, Req, Res } from '@nestjs/common';
import { ApiBadRequestResponse, ApiHeader, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, type Principal } from '../auth/principal.js';
import { EventsQueryDto } from './dto/events-query.dto.js';
import { STREAM_ID } from './event-log.repository.js';
import { EventStreams } from './event-streams.service.js';

@ApiTags('events')
@Controller('api/v1/events')
export class EventsController {
  constructor(@Inject(EventStreams) private readonly streams: EventStreams) {}

  @Get()
  @ApiProduces('text/event-stream')
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'resume after this event' })
  @ApiOkResponse({
    description:
      'server-sent events in the caller’s area: `id: <event id>`, `event: <type>`, `data: {id, type, at, areaPath, data}`; ' +
      '`event: reset` when the events after Last-Event-ID are no longer kept; a comment line every EVENTS_KEEPALIVE_S; ' +
      'the stream ends when the access token expires',
  })
  @ApiBadRequestResponse({ description: 'malformed Last-Event-ID' })
  async stream(
    @CurrentPrincipal() principal: Principal,
    @Query() query: EventsQueryDto,
    @Headers('last-event-id') header: string | undefined,
    @Req() req: IncomingMessage,
    @Res() res: ServerResponse,
  ): Promise<void> {
    const lastEventId = header?.trim() || query.lastEventId || null;
    if (lastEventId !== null && !STREAM_ID.test(lastEventId)) {
      throw new BadRequestException({ error: 'validation', message: ['Last-Event-ID must be an event id such as 1764400000000-0'] });
    }
    await this.streams.open(principal, lastEventId, res, tokenExpiry(req.headers.authorization));
  }
}

/** When the (already verified) bearer token expires, in epoch ms; never, if it names no expiry. */
function tokenExpiry(authorization: string | undefined): number {
  const payload = /^Bearer\s+[^.\s]+\.([^.\s]+)\./i.exec(authorization ?? '')?.[1];
  const exp = payload ? (JSON.parse(Buffer.from(payload, 'base64url').toString()) as { exp?: unknown }).exp : undefined;
  return typeof exp === 'number' ? exp * 1000 : Number.POSITIVE_INFINITY;
}
