import { parseInboundPayload } from './payloads.js';

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('device payload validation', () => {
  it('accepts a full heartbeat and ignores fields newer firmware may add', () => {
    const result = parseInboundPayload(
      'heartbeat',
      json({ seq: 1042, uptimeS: 86400, volume: 80, rssi: -71, power: 'mains', battery: 96, temperatureC: 41.5, firmware: '1.4.2', scheduleVersion: 17, futureField: 'x' }),
    );

    expect(result).toEqual({ ok: true, value: expect.objectContaining({ seq: 1042, power: 'mains', rssi: -71 }) });
    expect(result.ok && 'futureField' in result.value).toBe(false);
  });

  it('accepts null for an optional field and strips unknown fields inside a nested one', () => {
    const id = '0b7c7d0e-8f57-4a0b-9d38-5e6c2f6c8a11';

    const result = parseInboundPayload('heartbeat', json({ seq: 3, volume: null, scheduleVersion: null, playing: { occurrenceId: id, extra: 1 } }));

    expect(result).toEqual({ ok: true, value: { seq: 3, volume: null, scheduleVersion: null, playing: { occurrenceId: id } } });
  });

  it('says which field is wrong and how', () => {
    const id = '0b7c7d0e-8f57-4a0b-9d38-5e6c2f6c8a11';

    expect(parseInboundPayload('heartbeat', json({ seq: 1, volume: 101 }))).toEqual({ ok: false, reason: 'heartbeat: volume must be <= 100' });
    expect(parseInboundPayload('heartbeat', json({ volume: 3 }))).toEqual({ ok: false, reason: "heartbeat: must have required property 'seq'" });
    expect(parseInboundPayload('events', json({ id, type: 'started', occurrenceId: id, at: 'yesterday' }))).toEqual({
      ok: false,
      reason: 'events: at must match format "iso8601"',
    });
    expect(parseInboundPayload('acks', json({ commandId: `urn:uuid:${id}`, status: 'ok' }))).toEqual({
      ok: false,
      reason: 'acks: commandId must match format "uuid"',
    });
  });

  it('accepts a heartbeat with only seq', () => {
    expect(parseInboundPayload('heartbeat', json({ seq: 0 })).ok).toBe(true);
  });

  it.each([
    ['not JSON', Buffer.from('{"seq":'), 'payload is not JSON'],
    ['a JSON array', json([1, 2]), 'payload is not a JSON object'],
    ['a JSON string', json('hello'), 'payload is not a JSON object'],
    ['null', json(null), 'payload is not a JSON object'],
    ['no seq', json({ volume: 3 }), 'seq'],
    ['seq as a string', json({ seq: '5' }), 'seq'],
    ['a negative seq', json({ seq: -1 }), 'seq'],
    ['volume over 100', json({ seq: 1, volume: 101 }), 'volume'],
    ['an unknown power source', json({ seq: 1, power: 'solar' }), 'power'],
    ['a playing reference without an occurrence id', json({ seq: 1, playing: { occurrenceId: 'nope' } }), 'occurrenceId'],
    ['an oversized payload', Buffer.from(JSON.stringify({ seq: 1, pad: 'x'.repeat(17_000) })), '16384'],
  ])('rejects a heartbeat that is %s', (_what, raw, reason) => {
    const result = parseInboundPayload('heartbeat', raw);

    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toContain(reason);
  });

  it('validates playback events and command acks', () => {
    const id = '0b7c7d0e-8f57-4a0b-9d38-5e6c2f6c8a11';
    expect(parseInboundPayload('events', json({ id, type: 'started', occurrenceId: id, at: '2026-03-01T06:00:00+07:00', reason: null })).ok).toBe(true);
    expect(parseInboundPayload('events', json({ id, type: 'exploded', occurrenceId: id, at: '2026-03-01T06:00:00+07:00' })).ok).toBe(false);
    expect(parseInboundPayload('acks', json({ commandId: id, status: 'ok' })).ok).toBe(true);
    expect(parseInboundPayload('acks', json({ commandId: id, status: 'maybe' })).ok).toBe(false);
  });
});
