import { Controller, Get, Inject, Query, StreamableFile } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBearerAuth, ApiNotFoundResponse, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, type Principal } from '../auth/principal.js';
import { BroadcastReportDto } from './dto/broadcast-report.dto.js';
import { ReportQueryDto } from './dto/report-query.dto.js';
import { UptimeReportDto } from './dto/uptime-report.dto.js';
import { ReportsService, type CsvReport } from './reports.service.js';

@ApiTags('reports')
@ApiBearerAuth()
@ApiProduces('application/json', 'text/csv')
@ApiBadRequestResponse({ description: '`validation`, or `invalid-window`: to not after from, or more than 366 days apart' })
@ApiNotFoundResponse({ description: "`unknown-area`: no such area, or outside the caller's area" })
@Controller('api/v1/reports')
export class ReportsController {
  constructor(@Inject(ReportsService) private readonly reports: ReportsService) {}

  @Get('uptime')
  @ApiOkResponse({ type: UptimeReportDto, description: '`format=csv`: the devices as a CSV download' })
  async uptime(@Query() query: ReportQueryDto, @CurrentPrincipal() principal: Principal) {
    const report = await this.reports.uptime(principal, query);
    return query.format === 'csv' ? download(this.reports.uptimeCsv(report)) : report;
  }

  @Get('broadcasts')
  @ApiOkResponse({ type: BroadcastReportDto, description: '`format=csv`: the communes, then a `total` row, as a CSV download' })
  async broadcasts(@Query() query: ReportQueryDto, @CurrentPrincipal() principal: Principal) {
    const report = await this.reports.broadcasts(principal, query);
    return query.format === 'csv' ? download(this.reports.broadcastsCsv(report)) : report;
  }
}

function download({ filename, body }: CsvReport): StreamableFile {
  return new StreamableFile(Buffer.from(body, 'utf8'), {
    type: 'text/csv; charset=utf-8',
    disposition: `attachment; filename="${filename}"`,
  });
}
