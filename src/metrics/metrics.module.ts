import { Global, Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller.js';
import { MetricsQueries } from './metrics.repository.js';
import { MetricsRegistry } from './metrics-registry.service.js';
import { MetricsTokenGuard } from './metrics-token.guard.js';
import { ScrapeGauges } from './scrape-gauges.service.js';

/** `GET /metrics`. Global so features can record into `MetricsRegistry` without importing this module. */
@Global()
@Module({
  controllers: [MetricsController],
  providers: [MetricsRegistry, MetricsQueries, ScrapeGauges, MetricsTokenGuard],
  exports: [MetricsRegistry],
})
export class MetricsModule {}
