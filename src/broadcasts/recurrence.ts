import { RRuleTemporal } from 'rrule-temporal';
import { Temporal } from 'temporal-polyfill';

/** Rules finer than this would flood speakers and the as-run log; none of Loa's users needs them. */
const FORBIDDEN_FREQS = ['SECONDLY'];
/** Ranges RFC 5545 gives the numeric rule parts; the library tolerates some values outside them. */
const PART_RANGES: Record<string, [number, number, boolean]> = {
  BYSECOND: [0, 60, false],
  BYMINUTE: [0, 59, false],
  BYHOUR: [0, 23, false],
  BYMONTH: [1, 12, false],
  BYMONTHDAY: [1, 31, true],
  BYYEARDAY: [1, 366, true],
  BYWEEKNO: [1, 53, true],
  INTERVAL: [1, 10_000, false],
  COUNT: [1, 100_000, false],
};

/** A rule that needs more plays than this within one horizon is a mistake, not a schedule. */
export const MAX_OCCURRENCES_PER_HORIZON = 500;

export interface RecurrenceSpec {
  rrule: string;
  startAt: Date;
  until: Date | null;
  timezone: string;
}

export function isTimeZone(zone: string): boolean {
  try {
    Temporal.Now.zonedDateTimeISO(zone);
    return true;
  } catch {
    return false;
  }
}

/**
 * Builds the rule with DTSTART in the broadcast's zone, so BYHOUR=6 means 06:00 in
 * Hà Nội whatever the server's zone, and a zone with daylight saving keeps wall-clock times.
 */
function ruleOf(spec: RecurrenceSpec): RRuleTemporal {
  const body = spec.rrule.trim().replace(/^RRULE:/i, '');
  if (!/^[A-Z0-9=;,:+-]+$/i.test(body)) throw new RangeError('rrule holds characters no RFC 5545 rule has');
  const parts = new Map(
    body.split(';').map((part) => {
      const [key, value = ''] = part.split('=');
      return [key.toUpperCase(), value.toUpperCase()] as const;
    }),
  );
  if (!parts.has('FREQ')) throw new RangeError('rrule needs FREQ');
  if (FORBIDDEN_FREQS.includes(parts.get('FREQ')!)) throw new RangeError('FREQ=SECONDLY is not allowed');
  if (parts.has('DTSTART') || parts.has('UNTIL')) throw new RangeError('give startAt and until as fields, not inside rrule');
  for (const [part, [min, max, signed]] of Object.entries(PART_RANGES)) {
    for (const value of parts.get(part)?.split(',') ?? []) {
      const magnitude = signed ? Math.abs(Number(value)) : Number(value);
      if (!/^[+-]?\d+$/.test(value) || magnitude < min || magnitude > max) {
        throw new RangeError(`${part}=${value} is out of range ${min}..${max}`);
      }
    }
  }
  const dtstart = Temporal.Instant.fromEpochMilliseconds(spec.startAt.getTime()).toZonedDateTimeISO(spec.timezone);
  const until = spec.until ? Temporal.Instant.fromEpochMilliseconds(spec.until.getTime()).toZonedDateTimeISO(spec.timezone) : undefined;
  const rule = new RRuleTemporal({ rruleString: body, dtstart, temporal: Temporal, strict: true });
  return until ? new RRuleTemporal({ ...rule.options(), until, temporal: Temporal }) : rule;
}

/** Why the rule cannot be used, or null when it can. */
export function recurrenceProblem(spec: RecurrenceSpec): string | null {
  try {
    const rule = ruleOf(spec);
    const first = rule.next(Temporal.Instant.fromEpochMilliseconds(spec.startAt.getTime() - 1).toZonedDateTimeISO(spec.timezone), true);
    if (!first) return 'rrule produces no play time';
    return null;
  } catch (err) {
    return `invalid rrule: ${(err as Error).message}`;
  }
}

/** Play times of the rule in [from, to), as instants, in order. */
export function occurrencesBetween(spec: RecurrenceSpec, from: Date, to: Date): Date[] {
  if (to <= from) return [];
  const rule = ruleOf(spec);
  const hits = rule.between(from, to, true);
  const times: Date[] = [];
  for (const hit of hits) {
    const at = new Date(hit.epochMilliseconds);
    if (at >= from && at < to) times.push(at);
    if (times.length > MAX_OCCURRENCES_PER_HORIZON) {
      throw new RangeError(`rrule plays more than ${MAX_OCCURRENCES_PER_HORIZON} times within the scheduling horizon`);
    }
  }
  return times;
}
