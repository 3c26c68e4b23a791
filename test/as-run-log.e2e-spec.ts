import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AsRunRecorder } from '../src/broadcasts/as-run/as-run-recorder.service.js';
import {
  aDelivery,
  aFleetWithDeliveries,
  anOccurrence,
  aReportingSpeaker,
  deliveryOf,
  playbackEventsOf,
  rejectedMessagesOf,
  settled,
  type ReportingSpeaker,
} from './support/as-run.js';
import { anAreaTree } from './support/factories.js';
import { eventually, startTestApp, type TestApp } from './support/test-app.js';

describe(AsRunRecorder.name, () => {
  let t: TestApp;
  let area: { province: string; district: string; commune: string };
  let speaker: ReportingSpeaker;

  beforeAll(async () => {
    t = await startTestApp();
    area = await anAreaTree(t);
    speaker = await aReportingSpeaker(t, area.commune);
  });

  afterAll(async () => {
    await speaker?.client.endAsync();
    await t?.close();
  });

  it("marks a delivery delivered when the device acks the occurrence's play command", async () => {
    const occ = await anOccurrence(t);
    await aDelivery(t, occ.occurrenceId, speaker.code);

    await speaker.ack(occ.commandId!);

    const row = await eventually(async () => {
      const r = await deliveryOf(t, occ.occurrenceId, speaker.code);
      return r.status === 'delivered' && r;
    });
    expect(row.deliveredAt).not.toBeNull();
  });

  it('marks a delivery failed when the device refuses the play command, naming why', async () => {
    const occ = await anOccurrence(t);
    await aDelivery(t, occ.occurrenceId, speaker.code);

    await speaker.ack(occ.commandId!, 'rejected', 'expired');

    const row = await eventually(async () => {
      const r = await deliveryOf(t, occ.occurrenceId, speaker.code);
      return r.status === 'failed' && r;
    });
    expect(row.reason).toBe('ack rejected: expired');
  });

  it('ignores acks of commands that are not plays', async () => {
    const occ = await anOccurrence(t);
    await aDelivery(t, occ.occurrenceId, speaker.code);

    await speaker.ack(randomUUID());
    await settled(t, speaker);

    expect((await deliveryOf(t, occ.occurrenceId, speaker.code)).status).toBe('pending');
    expect(await rejectedMessagesOf(t, speaker.code)).toBe(0);
  });

  it('confirms deliveries carried by a Schedule version the device reports holding, and no later ones', async () => {
    const carriedBy5 = await anOccurrence(t, { immediate: false });
    const carriedBy7 = await anOccurrence(t, { immediate: false });
    await aDelivery(t, carriedBy5.occurrenceId, speaker.code, { scheduleVersion: 5 });
    await aDelivery(t, carriedBy7.occurrenceId, speaker.code, { scheduleVersion: 7 });

    await speaker.heartbeat(4);
    await settled(t, speaker);
    const afterOlder = await deliveryOf(t, carriedBy5.occurrenceId, speaker.code);
    await speaker.heartbeat(6);

    expect(afterOlder.status).toBe('pending');
    await eventually(async () => (await deliveryOf(t, carriedBy5.occurrenceId, speaker.code)).status === 'delivered');
    await settled(t, speaker);
    expect((await deliveryOf(t, carriedBy7.occurrenceId, speaker.code)).status).toBe('pending');
  });

  it('records started then finished with both times', async () => {
    const occ = await anOccurrence(t);
    await aDelivery(t, occ.occurrenceId, speaker.code);
    const startedAt = new Date(Date.now() - 60_000);
    const endedAt = new Date(Date.now() - 1000);

    await speaker.event({ occurrenceId: occ.occurrenceId, type: 'started', at: startedAt });
    await speaker.event({ occurrenceId: occ.occurrenceId, type: 'finished', at: endedAt });

    const row = await eventually(async () => {
      const r = await deliveryOf(t, occ.occurrenceId, speaker.code);
      return r.status === 'finished' && r;
    });
    expect(row.startedAt).toEqual(startedAt);
    expect(row.endedAt).toEqual(endedAt);
    expect(row.deliveredAt).not.toBeNull();
  });

  it('applies an event id once: a re-send, even claiming another type, changes nothing', async () => {
    const occ = await anOccurrence(t);
    await aDelivery(t, occ.occurrenceId, speaker.code);
    const id = await speaker.event({ occurrenceId: occ.occurrenceId, type: 'started' });
    await eventually(async () => (await deliveryOf(t, occ.occurrenceId, speaker.code)).status === 'started');
    const before = await deliveryOf(t, occ.occurrenceId, speaker.code);

    await speaker.event({ id, occurrenceId: occ.occurrenceId, type: 'failed', reason: 'replayed' });
    await settled(t, speaker);

    expect(await deliveryOf(t, occ.occurrenceId, speaker.code)).toEqual(before);
    expect(await playbackEventsOf(t, occ.occurrenceId)).toEqual([{ id, type: 'started' }]);
  });

  it("refuses an event about another device's occurrence and counts it against the sender", async () => {
    const other = await aReportingSpeaker(t, area.commune);
    const occ = await anOccurrence(t);
    await aDelivery(t, occ.occurrenceId, other.code);
    const before = await deliveryOf(t, occ.occurrenceId, other.code);
    const rejectedBefore = await rejectedMessagesOf(t, speaker.code);

    await speaker.event({ occurrenceId: occ.occurrenceId, type: 'finished' });

    await eventually(async () => (await rejectedMessagesOf(t, speaker.code)) === rejectedBefore + 1);
    await settled(t, speaker);
    expect(await deliveryOf(t, occ.occurrenceId, other.code)).toEqual(before);
    expect(await playbackEventsOf(t, occ.occurrenceId)).toEqual([]);
    expect(await rejectedMessagesOf(t, other.code)).toBe(0);
    await other.client.endAsync();
  });

  it('refuses an event about an occurrence that does not exist', async () => {
    const rejectedBefore = await rejectedMessagesOf(t, speaker.code);
    const unknown = randomUUID();

    await speaker.event({ occurrenceId: unknown, type: 'started' });

    await eventually(async () => (await rejectedMessagesOf(t, speaker.code)) === rejectedBefore + 1);
    expect(await playbackEventsOf(t, unknown)).toEqual([]);
  });

  it('ends as finished when finished arrives before started, and fills in the start', async () => {
    const occ = await anOccurrence(t);
    await aDelivery(t, occ.occurrenceId, speaker.code);
    const startedAt = new Date(Date.now() - 60_000);
    const endedAt = new Date(Date.now() - 1000);

    await speaker.event({ occurrenceId: occ.occurrenceId, type: 'finished', at: endedAt });
    await eventually(async () => (await deliveryOf(t, occ.occurrenceId, speaker.code)).status === 'finished');
    await speaker.event({ occurrenceId: occ.occurrenceId, type: 'started', at: startedAt });

    const row = await eventually(async () => {
      const r = await deliveryOf(t, occ.occurrenceId, speaker.code);
      return r.startedAt && r;
    });
    expect(row).toMatchObject({ status: 'finished', startedAt, endedAt });
  });

  it('ends as finished when both events arrive reversed in one batch', async () => {
    const occ = await anOccurrence(t);
    await aDelivery(t, occ.occurrenceId, speaker.code);
    const startedAt = new Date(Date.now() - 60_000);
    const endedAt = new Date(Date.now() - 1000);

    await Promise.all([
      speaker.event({ occurrenceId: occ.occurrenceId, type: 'finished', at: endedAt }),
      speaker.event({ occurrenceId: occ.occurrenceId, type: 'started', at: startedAt }),
    ]);

    const row = await eventually(async () => {
      const r = await deliveryOf(t, occ.occurrenceId, speaker.code);
      return r.status === 'finished' && r.startedAt && r;
    });
    expect(row).toMatchObject({ status: 'finished', startedAt, endedAt });
  });

  it("lets a late started event override Loa's inference that the play was missed", async () => {
    const occ = await anOccurrence(t);
    await aDelivery(t, occ.occurrenceId, speaker.code, { status: 'missed', reason: 'never reached the device' });
    const startedAt = new Date();

    await speaker.event({ occurrenceId: occ.occurrenceId, type: 'started', at: startedAt });

    const row = await eventually(async () => {
      const r = await deliveryOf(t, occ.occurrenceId, speaker.code);
      return r.status === 'started' && r;
    });
    expect(row).toMatchObject({ startedAt, endedAt: null, reason: null });
  });

  it('records a play the device skipped as missed, with its reason', async () => {
    const occ = await anOccurrence(t);
    await aDelivery(t, occ.occurrenceId, speaker.code, { status: 'delivered' });

    await speaker.event({ occurrenceId: occ.occurrenceId, type: 'skipped', reason: 'media checksum mismatch' });

    const row = await eventually(async () => {
      const r = await deliveryOf(t, occ.occurrenceId, speaker.code);
      return r.status === 'missed' && r;
    });
    expect(row.reason).toBe('skipped by device: media checksum mismatch');
  });

  it('does not let a refused ack undo playback the device already reported', async () => {
    const occ = await anOccurrence(t);
    await aDelivery(t, occ.occurrenceId, speaker.code);
    await speaker.event({ occurrenceId: occ.occurrenceId, type: 'started' });
    await speaker.event({ occurrenceId: occ.occurrenceId, type: 'interrupted', reason: 'emergency' });
    await eventually(async () => (await deliveryOf(t, occ.occurrenceId, speaker.code)).status === 'interrupted');

    await speaker.ack(occ.commandId!, 'failed', 'busy');
    await settled(t, speaker);

    expect(await deliveryOf(t, occ.occurrenceId, speaker.code)).toMatchObject({ status: 'interrupted', reason: 'emergency' });
  });

  it('records the 10,000 acks of an emergency within 10 s', async () => {
    const occ = await anOccurrence(t, { priority: 'emergency' });
    const codes = await aFleetWithDeliveries(t, area.district, occ.occurrenceId, 10_000);
    const recorder = t.app.get(AsRunRecorder);
    const firstAck = Date.now();

    // As the gateway hands them over: a thousand every 100 ms.
    for (let i = 0; i < codes.length; i += 1000) {
      for (const code of codes.slice(i, i + 1000)) recorder.onAck(code, { commandId: occ.commandId!, status: 'ok' });
      await new Promise((r) => setTimeout(r, 100));
    }

    await eventually(async () => (await statusCount(occ.occurrenceId, 'delivered')) === 10_000, 10_000 - (Date.now() - firstAck), 50);
  });

  async function statusCount(occurrenceId: string, status: string): Promise<number> {
    const [{ n }] = await t.app
      .get(DataSource)
      .query(`SELECT count(*)::int AS n FROM deliveries WHERE occurrence_id = $1 AND status = $2`, [occurrenceId, status]);
    return n;
  }
});
