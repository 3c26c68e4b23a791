import type { Aedes, Client } from 'aedes';

type ClearMessageId = (client: Client, packet: { messageId?: number }) => Promise<unknown>;

/**
 * Aedes stores a QoS 1 delivery in the persistence only for clean=false sessions (a clean
 * session's in-flight messages die with its connection), yet it asks the persistence to
 * clear the message id on every PUBACK. With the Redis store of cluster mode that builds two
 * keys and looks them up in a cache, once per speaker in every fan-out, to find nothing.
 * Clean sessions get that answer (nothing to clear) at once; clean=false sessions, whose
 * queued commands the store does hold, still go through it.
 */
export function skipCleanSessionClears(aedes: Aedes): void {
  const persistence = (aedes as unknown as { persistence: { outgoingClearMessageId: ClearMessageId } }).persistence;
  const clear = persistence.outgoingClearMessageId.bind(persistence);
  persistence.outgoingClearMessageId = (client, packet) => (client.clean ? Promise.resolve(undefined) : clear(client, packet));
}
