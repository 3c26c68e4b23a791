import { createHash, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { areaCodesOfPath } from '../areas/area.entity.js';
import type { AuthenticateResult } from '../broker/broker.service.js';
import { verifySecret } from '../common/secret-hash.js';
import { BrokerService } from '../broker/broker.service.js';
import { RedisService } from '../redis/redis.module.js';

interface CredentialEntry {
  secretHash: string;
  areaCodes: string[];
  decommissioned: boolean;
  /** sha256 of the last secret that passed scrypt; later CONNECTs compare against it. */
  verifiedDigest: Buffer | null;
}

/** Unknown codes are remembered briefly so a client cycling through made-up codes costs one query each. */
const UNKNOWN_TTL_MS = 30_000;

/**
 * Answers "may device X connect with this secret?" without touching Postgres on every
 * CONNECT: credentials of all devices are loaded at boot, later ones on first use, and a
 * verified secret is remembered as a digest so a reconnect storm costs one hash each.
 * Provisioning, rotation, decommissioning and area moves invalidate the entry on every
 * instance through a Redis channel.
 */
@Injectable()
export class DeviceCredentials implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(DeviceCredentials.name);
  private readonly entries = new Map<string, CredentialEntry>();
  private readonly unknown = new Map<string, number>();
  private readonly loading = new Map<string, Promise<CredentialEntry | null>>();
  private readonly channel: string;
  private readonly subscriber;

  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(RedisService) private readonly redis: RedisService,
    @Inject(BrokerService) private readonly broker: BrokerService,
  ) {
    this.channel = redis.key('credentials', 'invalidate');
    // No ready check: on a reconnect ioredis would send INFO on a connection already in
    // subscriber mode, which Redis refuses; the subscription itself is restored by ioredis.
    this.subscriber = redis.client.duplicate({ enableReadyCheck: false });
    this.subscriber.on('error', (err: Error) => this.logger.warn(`credential invalidation channel: ${err.message}`));
  }

  async onModuleInit(): Promise<void> {
    this.subscriber.on('message', (_channel: string, message: string) => {
      const { code, disconnect } = JSON.parse(message) as { code: string; disconnect: boolean };
      this.forget(code);
      if (disconnect) this.broker.disconnect(code);
    });
    await this.subscriber.subscribe(this.channel);
    const rows = await this.query('');
    for (const row of rows) this.entries.set(row.code, toEntry(row));
    this.logger.log(`loaded credentials of ${rows.length} device(s)`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
  }

  async authenticate(code: string, secret: string): Promise<AuthenticateResult> {
    const entry = await this.entry(code);
    if (!entry) return { ok: false, refusal: 'bad-credentials', reason: 'unknown device code' };
    if (entry.decommissioned) return { ok: false, refusal: 'not-authorized', reason: 'device is decommissioned' };
    const digest = createHash('sha256').update(secret).digest();
    const known = entry.verifiedDigest && timingSafeEqual(entry.verifiedDigest, digest);
    if (!known) {
      if (!(await verifySecret(secret, entry.secretHash))) {
        return { ok: false, refusal: 'bad-credentials', reason: 'wrong secret' };
      }
      entry.verifiedDigest = digest;
    }
    return { ok: true, access: { code, areaCodes: entry.areaCodes } };
  }

  /**
   * Drops the cached credentials of a device on every instance; with `disconnect`, also
   * closes its live session wherever it is connected (rotation, decommissioning, a move).
   */
  async invalidate(code: string, options: { disconnect: boolean }): Promise<void> {
    this.forget(code);
    if (options.disconnect) this.broker.disconnect(code);
    await this.redis.client.publish(this.channel, JSON.stringify({ code, disconnect: options.disconnect }));
  }

  private forget(code: string): void {
    this.entries.delete(code);
    this.unknown.delete(code);
    // A load already under way may carry the old secret: detach it so its result is not cached.
    this.loading.delete(code);
  }

  private async entry(code: string): Promise<CredentialEntry | null> {
    const cached = this.entries.get(code);
    if (cached) return cached;
    const unknownSince = this.unknown.get(code);
    if (unknownSince !== undefined && Date.now() - unknownSince < UNKNOWN_TTL_MS) return null;
    let pending = this.loading.get(code);
    if (!pending) {
      const load: Promise<CredentialEntry | null> = this.query('WHERE d.code = $1', [code])
        .then(([row]) => {
          const current = this.loading.get(code) === load;
          if (!row) {
            if (!current) return null;
            if (this.unknown.size > 100_000) this.unknown.clear();
            this.unknown.set(code, Date.now());
            return null;
          }
          const entry = toEntry(row);
          if (current) this.entries.set(code, entry);
          return entry;
        })
        .finally(() => {
          if (this.loading.get(code) === load) this.loading.delete(code);
        });
      this.loading.set(code, load);
      pending = load;
    }
    return pending;
  }

  private query(where: string, params: unknown[] = []): Promise<CredentialRow[]> {
    return this.db.query(
      `SELECT d.code, d.secret_hash, d.decommissioned_at IS NOT NULL AS decommissioned, a.path
         FROM devices d JOIN areas a ON a.id = d.area_id ${where}`,
      params,
    );
  }
}

interface CredentialRow {
  code: string;
  secret_hash: string;
  decommissioned: boolean;
  path: string;
}

function toEntry(row: CredentialRow): CredentialEntry {
  return {
    secretHash: row.secret_hash,
    areaCodes: areaCodesOfPath(row.path),
    decommissioned: row.decommissioned,
    verifiedDigest: null,
  };
}
