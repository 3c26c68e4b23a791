import type { Aedes, PublishPacket } from 'aedes';

/**
 * Every accepted device publish is consumed by Loa in `authorizePublish` and re-targeted to
 * this topic: nobody can subscribe to a `$` topic, so the message reaches no client and no
 * retained store, and Aedes still sends the PUBACK the device waits for. Calling back with an
 * error instead would make Aedes close the connection, and the protocol keeps it open.
 */
export const CONSUMED_TOPIC = '$loa/consumed';

type PublishDone = (err?: Error) => void;
type Publish = (packet: PublishPacket, client: unknown, done?: PublishDone) => void;

/**
 * Ends Aedes' publish pipeline at once for consumed device messages. Aedes would otherwise run
 * all of it for a message nothing can receive (a copy of the packet, the retained-store step,
 * an emit that matches no subscription, the `publish` event), once per heartbeat and once per
 * ack: 10,000 times in an emergency's ack wave, on the cores that are still delivering the
 * play. By the time Aedes publishes a QoS 1 message it has already written the PUBACK.
 */
export function endConsumedPublishes(aedes: Aedes): void {
  const broker = aedes as unknown as { publish: Publish };
  const publish = broker.publish.bind(aedes);
  broker.publish = (packet, client, done) => {
    if (packet.topic !== CONSUMED_TOPIC) return publish(packet, client, done);
    const callback = typeof client === 'function' ? (client as PublishDone) : done;
    if (callback) process.nextTick(callback);
  };
}
