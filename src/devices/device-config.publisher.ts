import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { BrokerService } from '../broker/broker.service.js';
import type { DeviceConfigPayload } from '../broker/payloads.js';
import { deviceTopic } from '../broker/topics.js';
import { AppConfig } from '../config/app-config.js';

/**
 * Keeps each device's retained DeviceConfig in the broker. The in-memory retained store
 * starts empty, so every active device's config is published again at boot (in cluster mode
 * only when Redis has lost them: `BrokerService.retainedLost`).
 */
@Injectable()
export class DeviceConfigPublisher implements OnApplicationBootstrap {
  private readonly logger = new Logger(DeviceConfigPublisher.name);

  constructor(
    @Inject(BrokerService) private readonly broker: BrokerService,
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(AppConfig) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    // Not awaited: Nest gives no order between modules' bootstrap hooks, and the broker
    // opens its listener in its own.
    this.broker.listening
      .then(() => this.publishAll())
      .catch((err: unknown) => this.logger.error(`retained configs not published: ${String(err)}`));
  }

  private async publishAll(): Promise<void> {
    if (!(await this.broker.retainedLost('config'))) return;
    const devices: { code: string; volume: number }[] = await this.db.query(
      'SELECT code, volume FROM devices WHERE decommissioned_at IS NULL',
    );
    for (const device of devices) await this.publish(device);
    await this.broker.retainedRestored('config');
    if (devices.length) this.logger.log(`published retained config of ${devices.length} device(s)`);
  }

  configOf(device: { volume: number }): DeviceConfigPayload {
    return {
      heartbeatIntervalS: this.config.HEARTBEAT_INTERVAL_S,
      volume: device.volume,
      timezone: this.config.DEVICE_TIMEZONE,
    };
  }

  publish(device: { code: string; volume: number }): Promise<void> {
    return this.broker.publish(deviceTopic(device.code, 'config'), this.configOf(device), { retain: true, qos: 1 });
  }

  clear(code: string): Promise<void> {
    return this.broker.clearRetained(deviceTopic(code, 'config'));
  }
}
