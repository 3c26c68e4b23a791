/**
 * An immediate (`now`) play is published before its deliveries are written, so an
 * emergency's 10,000-row insert does not delay the fan-out. Devices may then ack or
 * report playback before their delivery row exists. The writer of those deliveries holds
 * this lock exclusively from before the publish until its transaction commits; the as-run
 * writer takes it shared for every immediate occurrence a batch mentions, before it writes
 * anything, so a device's report waits for its row instead of matching nothing.
 *
 * Postgres advisory locks take (int4, int4): a namespace of Loa's own and a hash of the
 * occurrence id. A hash collision only makes one batch wait for an unrelated insert.
 */
const NAMESPACE = 0x4c6f61; // "Loa"

/** The arguments of `pg_advisory_xact_lock[_shared]` for the occurrence id in `occurrenceIdSql`. */
export function deliveriesLockArgs(occurrenceIdSql: string): string {
  return `${NAMESPACE}, hashtext((${occurrenceIdSql})::text)`;
}
