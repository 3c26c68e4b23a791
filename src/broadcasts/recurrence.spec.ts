import { occurrencesBetween, recurrenceProblem } from './recurrence.js';

const HCM = 'Asia/Ho_Chi_Minh';

describe('recurring broadcast rules', () => {
  it('plays "06:00 and 17:00 on weekdays" at the right UTC instants across December 2026', () => {
    const spec = {
      rrule: 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=6,17;BYMINUTE=0;BYSECOND=0',
      startAt: new Date('2026-12-01T06:00:00+07:00'),
      until: null,
      timezone: HCM,
    };

    const times = occurrencesBetween(spec, new Date('2026-12-01T00:00:00+07:00'), new Date('2027-01-01T00:00:00+07:00'));

    // December 2026 has 23 weekdays (1st is a Tuesday), two plays each.
    expect(times).toHaveLength(46);
    expect(times.slice(0, 4).map((t) => t.toISOString())).toEqual([
      '2026-11-30T23:00:00.000Z',
      '2026-12-01T10:00:00.000Z',
      '2026-12-01T23:00:00.000Z',
      '2026-12-02T10:00:00.000Z',
    ]);
    expect(times.at(-1)!.toISOString()).toBe('2026-12-31T10:00:00.000Z');
    const weekdaysInHanoi = new Set(times.map((t) => new Intl.DateTimeFormat('en', { weekday: 'short', timeZone: HCM }).format(t)));
    expect([...weekdaysInHanoi].sort()).toEqual(['Fri', 'Mon', 'Thu', 'Tue', 'Wed']);
    const hoursInHanoi = new Set(times.map((t) => new Intl.DateTimeFormat('en', { hour: 'numeric', hourCycle: 'h23', timeZone: HCM }).format(t)));
    expect([...hoursInHanoi].sort()).toEqual(['06', '17']);
  });

  it('reads wall-clock hours in the broadcast zone, not the server zone', () => {
    const spec = { rrule: 'FREQ=DAILY;BYHOUR=6;BYMINUTE=0;BYSECOND=0', startAt: new Date('2026-12-01T00:00:00Z'), until: null, timezone: 'Europe/Berlin' };

    const times = occurrencesBetween(spec, new Date('2026-12-01T00:00:00Z'), new Date('2026-12-03T00:00:00Z'));

    expect(times.map((t) => t.toISOString())).toEqual(['2026-12-01T05:00:00.000Z', '2026-12-02T05:00:00.000Z']);
  });

  it('stops at until and returns only times inside the window', () => {
    const spec = {
      rrule: 'FREQ=DAILY',
      startAt: new Date('2026-12-01T06:00:00+07:00'),
      until: new Date('2026-12-03T06:00:00+07:00'),
      timezone: HCM,
    };

    const times = occurrencesBetween(spec, new Date('2026-12-02T00:00:00+07:00'), new Date('2026-12-31T00:00:00+07:00'));

    expect(times.map((t) => t.toISOString())).toEqual(['2026-12-01T23:00:00.000Z', '2026-12-02T23:00:00.000Z']);
  });

  it.each([
    ['FREQ=BOGUS', /invalid rrule/],
    ['BYHOUR=6', /FREQ/],
    ['FREQ=SECONDLY', /SECONDLY/],
    ['FREQ=DAILY;DTSTART=20261201T000000Z', /startAt/],
    ['FREQ=DAILY;BYHOUR=25', /invalid rrule/],
    ['FREQ=DAILY;COUNT=0', /no play time|invalid rrule/],
    ['FREQ=DAILY\nX-EVIL:1', /invalid rrule/],
  ])('refuses %j', (rrule, reason) => {
    expect(recurrenceProblem({ rrule, startAt: new Date('2026-12-01T06:00:00+07:00'), until: null, timezone: HCM })).toMatch(reason);
  });

  it('accepts a weekday rule', () => {
    expect(recurrenceProblem({ rrule: 'RRULE:FREQ=WEEKLY;BYDAY=MO,FR;BYHOUR=6', startAt: new Date('2026-12-01T06:00:00+07:00'), until: null, timezone: HCM })).toBeNull();
  });

  it('refuses a rule that would play more than 500 times within one horizon', () => {
    const spec = { rrule: 'FREQ=MINUTELY', startAt: new Date('2026-12-01T06:00:00+07:00'), until: null, timezone: HCM };

    expect(() => occurrencesBetween(spec, spec.startAt, new Date(spec.startAt.getTime() + 72 * 3_600_000))).toThrow(/more than 500/);
  });
});
