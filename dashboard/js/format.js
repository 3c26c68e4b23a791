import { locale, t } from './i18n.js';

/** Vietnam has one zone and no DST; operators think in it whatever their laptop says. */
export const VIETNAM_TZ = 'Asia/Ho_Chi_Minh';
const VIETNAM_OFFSET = '+07:00';

const DATE_TIME_PARTS = new Intl.DateTimeFormat('en-GB', {
  timeZone: VIETNAM_TZ,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

/** "29/11/2026 14:05", Vietnam time: the order people in Vietnam write, in both languages. */
export function dateTime(iso) {
  if (!iso) return '—';
  const p = Object.fromEntries(DATE_TIME_PARTS.formatToParts(new Date(iso)).map(({ type, value }) => [type, value]));
  return `${p.day}/${p.month}/${p.year} ${p.hour}:${p.minute}`;
}

/** Two largest units: "2 giờ 5 phút", "3 min 12 s". */
export function duration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const units = [
    ['durationDays', Math.floor(s / 86_400)],
    ['durationHours', Math.floor(s / 3600) % 24],
    ['durationMinutes', Math.floor(s / 60) % 60],
    ['durationSeconds', s % 60],
  ];
  const first = units.findIndex(([, n]) => n > 0);
  if (first === -1) return t('durationSeconds', { n: 0 });
  return units
    .slice(first, first + 2)
    .filter(([, n]) => n > 0)
    .map(([key, n]) => t(key, { n }))
    .join(' ');
}

/** A datetime-local value ("2026-12-01T06:00") read as Vietnam time, as the API wants it. */
export function vietnamLocalToIso(value) {
  return `${value.length === 16 ? `${value}:00` : value}${VIETNAM_OFFSET}`;
}

/** The datetime-local value for `date` in Vietnam time. */
export function isoToVietnamLocal(date) {
  const shifted = new Date(date.getTime() + 7 * 3600_000);
  return shifted.toISOString().slice(0, 16);
}

export function integer(n) {
  return new Intl.NumberFormat(locale()).format(n);
}

const CATEGORY_KEYS = {
  'covid-19': 'categoryCovid19',
  election: 'categoryElection',
  disaster: 'categoryDisaster',
  policy: 'categoryPolicy',
  news: 'categoryNews',
  other: 'categoryOther',
};
export const CATEGORIES = Object.keys(CATEGORY_KEYS);

export function categoryName(category) {
  return t(CATEGORY_KEYS[category] ?? 'categoryOther');
}

const capitalised = (word) => word.charAt(0).toUpperCase() + word.slice(1);

export function stateName(state) {
  return t(`state${capitalised(state)}`);
}

export function roleName(role) {
  return t(`role${capitalised(role)}`);
}

export function statusName(status) {
  return t(`status${capitalised(status)}`);
}

export function priorityName(priority) {
  return t(`priority${capitalised(priority)}`);
}

/** The API's `{error, message}` as one line. */
export function errorText(err) {
  const message = err?.body?.message ?? err?.message ?? String(err);
  return Array.isArray(message) ? message.join('; ') : String(message);
}
