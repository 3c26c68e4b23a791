import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import type { CommandAck } from '../broker/payloads.js';
import { DeviceInbox } from '../devices/device-inbox.js';

/** The wave of a play's acks is over once none has come for this long. */
export const ACK_LULL_MS = 300;
/** However long the acks keep coming, the wave is taken as over this long after the publish. */
export const ACK_WAVE_MAX_MS = 5_000;
/** A timer this late says the event loop was blocked, not that it was idle. */
const LATE_TIMER_MS = 50;
const RECHECK_MS = 20;

/** One watched play: resolves once its acks have ebbed at this instance. */
export interface AckWave {
  ebbed: Promise<void>;
}

/**
 * Tells when the acks of an immediate `play` stop arriving at this instance, so the work
 * that can wait (writing 10,000 deliveries) does not take a core while the play is still
 * going out: on a machine shared with Postgres (the 2-core box the targets are set on),
 * that insert, run during the fan-out, delayed the last speakers' receipt by about a third.
 * Speakers that have the play ack it, so acks still coming mean the play is still
 * spreading; a lull, or ACK_WAVE_MAX_MS, means it has reached everyone it will soon reach.
 * Only this instance's acks are counted: the other instances' speakers ack there.
 */
@Injectable()
export class PlayAckWave implements OnModuleInit {
  /** Last ack time (ms) of each play being watched, by command id. */
  private readonly lastAckAt = new Map<string, number>();

  constructor(@Inject(DeviceInbox) private readonly inbox: DeviceInbox) {}

  onModuleInit(): void {
    this.inbox.subscribe({ onAck: (_code, ack) => this.onAck(ack) });
  }

  /** Call before the play is published, so no early ack is missed. */
  watch(commandId: string): AckWave {
    const startedAt = Date.now();
    this.lastAckAt.set(commandId, startedAt);
    const ebbed = new Promise<void>((resolve) => {
      const check = (dueAt: number) => {
        const now = Date.now();
        if (now >= startedAt + ACK_WAVE_MAX_MS) return this.end(commandId, resolve);
        // A timer that fires late means the event loop was busy, most likely handing the play
        // to thousands of sockets: acks may still be on their way in, so silence so far
        // proves nothing. Look again shortly.
        if (now - dueAt > LATE_TIMER_MS) return arm(RECHECK_MS);
        // Even a timer on time runs before this turn of the loop reads its sockets, and a
        // write pass that ended just after the due time leaves every ack sent meanwhile
        // unread. setImmediate runs after those reads: judge the silence there.
        setImmediate(judge);
      };
      const judge = () => {
        const now = Date.now();
        const left = startedAt + ACK_WAVE_MAX_MS - now;
        const quietFor = now - this.lastAckAt.get(commandId)!;
        if (left <= 0 || quietFor >= ACK_LULL_MS) return this.end(commandId, resolve);
        arm(Math.min(ACK_LULL_MS - quietFor, left));
      };
      const arm = (ms: number) => setTimeout(check, ms, Date.now() + ms);
      arm(ACK_LULL_MS);
    });
    return { ebbed };
  }

  private end(commandId: string, resolve: () => void): void {
    this.lastAckAt.delete(commandId);
    resolve();
  }

  private onAck(ack: CommandAck): void {
    if (this.lastAckAt.has(ack.commandId)) this.lastAckAt.set(ack.commandId, Date.now());
  }
}
