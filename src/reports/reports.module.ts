import { Module } from '@nestjs/common';
import { ReportsController } from './reports.controller.js';
import { ReportQueries } from './reports.repository.js';
import { ReportsService } from './reports.service.js';

@Module({
  controllers: [ReportsController],
  providers: [ReportsService, ReportQueries],
})
export class ReportsModule {}
