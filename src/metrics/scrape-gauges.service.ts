import { getQueueToken } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { JobType, Queue } from 'bullmq';
import { Counter, Gauge } from 'prom-client';
import { BrokerService } from '../broker/broker.service.js';
import { QUEUES } from '../queues/queues.js';
import { MetricsQueries } from './metrics.repository.js';
import { MetricsRegistry } from './metrics-registry.service.js';

const JOB_STATES: JobType[] = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'];

/**
 * Metrics read when Prometheus scrapes rather than kept up to date: the broker's live
 * numbers, device states from Postgres and queue depths from Redis.
 */
@Injectable()
export class ScrapeGauges implements OnModuleInit {
  private readonly logger = new Logger(ScrapeGauges.name);

  constructor(
    @Inject(MetricsRegistry) private readonly metrics: MetricsRegistry,
    @Inject(MetricsQueries) private readonly queries: MetricsQueries,
    @Inject(BrokerService) private readonly broker: BrokerService,
    @Inject(ModuleRef) private readonly moduleRef: ModuleRef,
  ) {}

  onModuleInit(): void {
    const registers = [this.metrics.registry];
    const { broker, queries } = this;
    const queues = Object.values(QUEUES).map((name) => this.moduleRef.get<Queue>(getQueueToken(name), { strict: false }));
    const failed = (what: string) => (err: unknown) => this.logger.warn(`metrics: ${what} not read: ${err instanceof Error ? err.message : String(err)}`);

    new Gauge({
      name: 'loa_mqtt_connected_clients',
      help: 'MQTT clients connected to this instance',
      registers,
      collect() {
        this.set(broker.connectedClients);
      },
    });
    trafficCounter('loa_mqtt_messages_received_total', 'MQTT messages published by devices to this instance', () => broker.traffic.received);
    trafficCounter(
      'loa_mqtt_messages_sent_total',
      'MQTT messages Loa published on this instance (one per topic: an area topic reaches every speaker of the area)',
      () => broker.traffic.sent,
    );

    new Gauge({
      name: 'loa_devices',
      help: 'Devices in service by state (whole fleet, from Postgres)',
      labelNames: ['state'],
      registers,
      async collect() {
        this.reset();
        const counts = await queries.devicesByState().catch(failed('device states'));
        for (const [state, n] of Object.entries(counts ?? {})) this.set({ state }, n);
      },
    });

    new Gauge({
      name: 'loa_queue_jobs',
      help: 'BullMQ jobs by queue and state (whole cluster, from Redis)',
      labelNames: ['queue', 'state'],
      registers,
      async collect() {
        this.reset();
        await Promise.all(
          queues.map(async (queue) => {
            const counts = await queue.getJobCounts(...JOB_STATES).catch(failed(`queue ${queue.name}`));
            for (const [state, n] of Object.entries(counts ?? {})) this.set({ queue: queue.name, state }, n);
          }),
        );
      },
    });

    /** A counter mirroring a plain number kept elsewhere: it only ever moves by the difference. */
    function trafficCounter(name: string, help: string, read: () => number): void {
      let seen = 0;
      new Counter({
        name,
        help,
        registers,
        collect() {
          const now = read();
          if (now > seen) this.inc(now - seen);
          seen = now;
        },
      });
    }
  }
}
