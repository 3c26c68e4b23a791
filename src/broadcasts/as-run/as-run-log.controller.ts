import { Controller, Get, Inject, Param, Query, Req, Res, StreamableFile } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, type Principal } from '../../auth/principal.js';
import { uuidParam } from '../../common/uuid.js';
import { AsRunLog } from './as-run-log.service.js';
import { AsRunEntryDto, AsRunLogQueryDto, OccurrenceDeliveriesDto, OccurrenceDeliveriesQueryDto } from './dto/as-run.dto.js';

interface NegotiatingRequest {
  accepts(types: string[]): string | false;
}

interface ClosingResponse {
  once(event: 'close', listener: () => void): unknown;
}

@ApiTags('as-run log')
@Controller('api/v1')
export class AsRunLogController {
  constructor(@Inject(AsRunLog) private readonly log: AsRunLog) {}

  @Get('occurrences/:id/deliveries')
  @ApiOkResponse({ type: OccurrenceDeliveriesDto, description: "a page of the occurrence's deliveries, by device code, with counts by status" })
  @ApiNotFoundResponse({ description: "unknown occurrence, or one of a broadcast outside the caller's area" })
  deliveries(@Param('id', uuidParam('id')) id: string, @Query() query: OccurrenceDeliveriesQueryDto, @CurrentPrincipal() principal: Principal) {
    return this.log.deliveriesOfOccurrence(id, query, principal);
  }

  @Get('deliveries')
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({ type: [AsRunEntryDto], description: "JSON: a page of the log of the caller's devices, by start time." + ' `Accept: text/csv`: every matching row as a CSV download' })
  @ApiBadRequestResponse({ description: 'bad filter, or a window reversed or longer than 93 days' })
  @ApiNotFoundResponse({ description: "`unknown-area`: unknown, or outside the caller's area" })
  async asRunLog(
    @Query() query: AsRunLogQueryDto,
    @Req() req: NegotiatingRequest,
    @Res({ passthrough: true }) res: ClosingResponse,
    @CurrentPrincipal() principal: Principal,
  ) {
    if (req.accepts(['application/json', 'text/csv']) !== 'text/csv') return this.log.page(query, principal);
    const { filename, body } = await this.log.csv(query, principal);
    // A client that hangs up stops the export: no more pages are read for nobody.
    res.once('close', () => body.destroy());
    return new StreamableFile(body, { type: 'text/csv; charset=utf-8', disposition: `attachment; filename="${filename}"` });
  }
}
