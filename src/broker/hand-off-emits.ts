type EmitCallback = (err?: Error) => void;

export interface Emitter {
  emit(packet: { topic: string }, cb?: EmitCallback): unknown;
}

/**
 * Makes an in-process emitter (Aedes' own mqemitter) report an emit as done once the message
 * has been handed to every subscriber's connection, instead of once the slowest subscriber
 * has read it. Without this, a publish by Loa — the `play` of an emergency, whose POST waits
 * for it — would wait for a speaker that stopped reading its socket until
 * BROKER_DRAIN_TIMEOUT_MS drops it. Delivery itself is unchanged: QoS 1 messages are still
 * acknowledged by each speaker, and the cluster's Redis emitter already completes an emit
 * once Redis has it. A retained message is stored before it is emitted, so it is in place
 * when the publish completes.
 */
export function handOffEmits(mq: Emitter, onDeliveryError: (err: Error, topic: string) => void): void {
  const emit = mq.emit.bind(mq);
  mq.emit = (packet, cb) => {
    emit(packet, (err) => {
      if (err) onDeliveryError(err, packet.topic);
    });
    if (cb) process.nextTick(cb);
    return mq;
  };
}
