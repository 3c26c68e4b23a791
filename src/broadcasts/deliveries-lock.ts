/**
 * An immediate (`now`) play is published before its deliveries are written, so an
 * emergency's 10,000-row insert does not delay the fan-out; the insert also waits for the
 * play's acks to ebb (play-ack-wave.ts), up to a few seconds. Devices may then ack or
 * report playback before their delivery row exists. The writer of those deliveries holds
 * this lock exclusively from before the publish until its transaction commits. Whoever
 * reads or changes the deliveries of immediate occurrences meanwhile takes it shared,
 * before it writes anything, and so waits for the rows instead of missing them: the as-run
 * writer for the occurrences a batch mentions, a cancel for its broadcast's, and the
 * overlap checks of a new broadcast, or of the horizon, for the plays they overlap.
 *
 * Postgres advisory locks take (int4, int4): a namespace of Loa's own and a hash of the
 * occurrence id. A hash collision only makes one batch wait for an unrelated insert.
 */
const NAMESPACE = 0x4c6f61; // "Loa"

/** The arguments of `pg_advisory_xact_lock[_shared]` for the occurrence id in `occurrenceIdSql`. */
export function deliveriesLockArgs(occurrenceIdSql: string): string {
  return `${NAMESPACE}, hashtext((${occurrenceIdSql})::text)`;
}

/**
 * A statement that waits until the deliveries of every immediate occurrence `o` matching
 * `where` are written. Only for transactions that hold no deliveries lock themselves.
 */
export function awaitDeliveriesSql(where: string): string {
  return `SELECT pg_advisory_xact_lock_shared(${deliveriesLockArgs('o.id')}) FROM occurrences o WHERE o.command_id IS NOT NULL AND (${where})`;
}
