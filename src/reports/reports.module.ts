import { Module } from '@nestjs/common';
import { AreasModule } from '../areas/areas.module.js';
import { ReportsController } from './reports.controller.js';
import { ReportQueries } from './reports.repository.js';
import { ReportsService } from './reports.service.js';

@Module({
  imports: [AreasModule],
  controllers: [ReportsController],
  providers: [ReportsService, ReportQueries],
})
export class ReportsModule {}
