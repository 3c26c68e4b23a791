import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { Broadcast } from './broadcast.entity.js';
import type { ResolvedTargets } from './broadcast-targets.service.js';
import { deliveriesLockArgs } from './deliveries-lock.js';
import { noOverlaps, OccurrencePlanner, type OverlapOutcome, type PlannedOccurrence } from './occurrence-planner.service.js';
import { PlayAckWave } from './play-ack-wave.js';
import { PlayDispatcher } from './play-dispatcher.service.js';

/** Attempts at writing the deliveries once the play is out: the broadcast is on air, so giving up loses only its as-run record. */
const WRITE_ATTEMPTS = 3;

export interface ImmediateStartOutcome {
  deviceIds: string[];
  overlaps: OverlapOutcome;
}

/**
 * Sends an immediate (`now`) play, then writes its deliveries. Writing one delivery per
 * target device first would keep an emergency to 10,000 speakers off the air for about
 * half a second (the insert and its foreign-key checks); the same-priority refusal has
 * already been made, without deliveries, before the broadcast committed. The insert then
 * waits for the wave of acks to ebb (play-ack-wave.ts), so it does not compete for the
 * cores while the play is still going out. Devices that answer before the rows exist,
 * and cancels and overlap checks meanwhile, wait on the deliveries lock (deliveries-lock.ts).
 */
@Injectable()
export class ImmediateStart {
  private readonly logger = new Logger(ImmediateStart.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(OccurrencePlanner) private readonly planner: OccurrencePlanner,
    @Inject(PlayDispatcher) private readonly dispatcher: PlayDispatcher,
    @Inject(PlayAckWave) private readonly ackWave: PlayAckWave,
  ) {}

  async start(broadcast: Broadcast, occurrence: PlannedOccurrence, targets: ResolvedTargets): Promise<ImmediateStartOutcome> {
    let sent = false;
    let outcome: ImmediateStartOutcome;
    try {
      outcome = await this.db.transaction(async (em) => {
        await em.query(`SELECT pg_advisory_xact_lock(${deliveriesLockArgs('$1::uuid')})`, [occurrence.id]);
        const wave = this.ackWave.watch(occurrence.commandId!);
        await this.dispatcher.dispatch(broadcast, occurrence, targets.areas.map((a) => a.code), targets.devices.map((d) => d.code));
        sent = true;
        await wave.ebbed;
        return this.writeDeliveries(em, broadcast, occurrence);
      });
    } catch (err) {
      if (!sent) throw err;
      outcome = await this.retryWrite(broadcast, occurrence, err);
    }
    await this.dispatcher.watchUnacknowledged(broadcast, occurrence);
    return outcome;
  }

  /** Every current target gets a pending delivery; overlaps with other broadcasts are settled by priority. */
  private async writeDeliveries(em: EntityManager, broadcast: Broadcast, occurrence: PlannedOccurrence): Promise<ImmediateStartOutcome> {
    const deviceIds = await this.planner.addDeliveries(em, broadcast.id, [occurrence.id]);
    // A same-priority play planned since the refusal check is kept and logged: this one is already on air.
    const overlaps = await this.planner.resolveOverlaps(em, broadcast, [occurrence.id], { refuseSamePriority: false, writingImmediate: true });
    return { deviceIds, overlaps };
  }

  private async retryWrite(broadcast: Broadcast, occurrence: PlannedOccurrence, first: unknown): Promise<ImmediateStartOutcome> {
    let last = first;
    for (let attempt = 2; attempt <= WRITE_ATTEMPTS; attempt++) {
      this.logger.warn(`broadcast ${broadcast.id}: play sent but its deliveries not written (${String(last)}); attempt ${attempt} of ${WRITE_ATTEMPTS}`);
      try {
        return await this.db.transaction((em) => this.writeDeliveries(em, broadcast, occurrence));
      } catch (err) {
        last = err;
      }
    }
    this.logger.error(
      `broadcast ${broadcast.id}: play sent but its deliveries could not be written (${String(last)}); ` +
        `its as-run log stays empty and devices that miss it are not re-sent the play`,
    );
    return { deviceIds: [], overlaps: noOverlaps() };
  }
}
