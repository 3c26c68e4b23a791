import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { BrokerService } from '../../broker/broker.service.js';
import { AppConfig } from '../../config/app-config.js';
import { DeviceGateway } from '../device-gateway.service.js';
import { LivenessStore } from './liveness.store.js';

/**
 * Keeps this instance's lease in Redis alive while it runs. A process that is killed or
 * loses its machine records no disconnects; its lapsed lease is how the others find out
 * (LivenessStore.releaseLostInstances, from the sweep).
 */
@Injectable()
export class InstanceLease implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(InstanceLease.name);
  private timer: NodeJS.Timeout | null = null;

  constructor(
    @Inject(LivenessStore) private readonly store: LivenessStore,
    @Inject(BrokerService) private readonly broker: BrokerService,
    @Inject(DeviceGateway) private readonly gateway: DeviceGateway,
    @Inject(AppConfig) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const ttlMs = this.config.INSTANCE_LEASE_S * 1000;
    const id = this.broker.instanceId;
    await this.store.renewLease(id, ttlMs);
    let renewedAt = Date.now();
    // Three renewals per lease: one slow Redis round trip or a busy event loop does not lose it.
    this.timer = setInterval(() => {
      const sentAt = Date.now();
      this.store
        .renewLease(id, ttlMs)
        .then((held) => {
          const gapMs = sentAt - renewedAt;
          renewedAt = sentAt;
          if (held) return;
          const links = this.gateway.reassertLinks();
          this.logger.warn(
            `lease of instance ${id} had lapsed (last renewed ${gapMs} ms before this renewal was sent; event loop or Redis stalled): ` +
              `${links} open link(s) recorded as connected again, in case the sweep had taken this instance for dead`,
          );
        })
        .catch((err: unknown) => this.logger.warn(`lease of instance ${id} not renewed: ${String(err)}`));
    }, ttlMs / 3);
    this.timer.unref();
  }

  /** Before Redis closes; released, the instance is no longer looked at, and its broker records its disconnects as it closes. */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.store
      .releaseLease(this.broker.instanceId)
      .catch((err: unknown) => this.logger.warn(`lease of instance ${this.broker.instanceId} not released: ${String(err)}`));
  }
}
