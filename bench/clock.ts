/**
 * The one clock of a benchmark run, shared by the orchestrator and every process it forks.
 *
 * Receipts are compared across processes: the orchestrator notes when it sent a POST, a
 * client process when its speaker had the play. `performance.timeOrigin + performance.now()`
 * reads the wall clock once, when each process starts, and the monotonic clock after, so two
 * processes started on either side of a step of the wall clock disagree by the step. That was
 * seen once on these VMs (2026-12-05, 00:35 UTC): Mosquitto's reference heard every speaker's
 * ack 751 ms after the send, yet the speakers' receipts ran to 1,075 ms. The monotonic clock is
 * one for the whole machine; the orchestrator maps it to the epoch once, and every process it
 * starts inherits that mapping through the environment.
 */
const MAPPING = 'LOA_BENCH_EPOCH_AT_MONOTONIC_ZERO';

const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

const inherited = Number(process.env[MAPPING]);
const epochAtMonotonicZero = Number.isFinite(inherited) && inherited > 0 ? inherited : Date.now() - monotonicMs();
process.env[MAPPING] = String(epochAtMonotonicZero);

/** Epoch milliseconds with sub-millisecond resolution, comparable across the processes of one run. */
export type EpochMs = number;

export const epochNow = (): EpochMs => epochAtMonotonicZero + monotonicMs();
