import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/**
 * This process's Prometheus registry and the instruments features record into. Not the
 * prom-client global: two Loa apps in one process (the e2e tests) must not share metrics.
 */
@Injectable()
export class MetricsRegistry {
  readonly registry = new Registry();

  /** A `now` broadcast's due time (its start) to its play command handed to the broker. */
  readonly dispatchLatency = new Histogram({
    name: 'loa_dispatch_latency_seconds',
    help: "Seconds from an immediate broadcast's due time to its play command published to the broker",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
