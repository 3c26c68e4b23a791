import { Module } from '@nestjs/common';
import { DashboardAssets } from './dashboard-assets.service.js';
import { DashboardController } from './dashboard.controller.js';

/** The operators' dashboard at `/`: static files served from memory. */
@Module({
  controllers: [DashboardController],
  providers: [DashboardAssets],
})
export class DashboardModule {}
