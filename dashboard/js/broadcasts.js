// Recent broadcasts with the progress of their current play, refreshed when
// delivery.progress events name them.
import { byId, h } from './dom.js';
import { dateTime, priorityName } from './format.js';
import { t } from './i18n.js';
import { api } from './session.js';

const SHOWN = 15;
const DONE = ['finished'];
const LOST = ['failed', 'interrupted', 'missed'];

export class BroadcastsView {
  constructor() {
    this.items = [];
    this.details = new Map();
    this.titles = new Map();
    this.refreshTimers = new Map();
  }

  async load() {
    const page = await api(`/api/v1/broadcasts?pageSize=${SHOWN}`);
    this.items = page.items;
    await Promise.all(this.items.map((b) => Promise.all([this.loadDetail(b.id), this.loadTitle(b.bulletinId)])));
    this.render();
  }

  async loadDetail(id) {
    this.details.set(id, await api(`/api/v1/broadcasts/${id}`));
  }

  async loadTitle(bulletinId) {
    if (this.titles.has(bulletinId)) return;
    const bulletin = await api(`/api/v1/bulletins/${bulletinId}`).catch(() => null);
    this.titles.set(bulletinId, bulletin?.title ?? bulletinId);
  }

  /** A delivery.progress event: `{ occurrenceId, broadcastId, deliveries }`. Coalesced per broadcast. */
  onProgress(data) {
    if (this.refreshTimers.has(data.broadcastId)) return;
    this.refreshTimers.set(
      data.broadcastId,
      setTimeout(async () => {
        this.refreshTimers.delete(data.broadcastId);
        try {
          if (this.items.some((b) => b.id === data.broadcastId)) {
            await this.loadDetail(data.broadcastId);
            this.render();
          } else {
            await this.load();
          }
        } catch (err) {
          console.warn('loa: broadcast refresh failed', err);
        }
      }, 1000),
    );
  }

  render() {
    const rows = this.items.map((b) => {
      const detail = this.details.get(b.id) ?? b;
      return h(
        'tr',
        { dataset: { broadcast: b.id, priority: b.priority }, class: b.priority === 'emergency' ? 'emergency' : undefined },
        h('th', { scope: 'row' }, this.titles.get(b.bulletinId) ?? '…'),
        h('td', {}, scheduleText(b)),
        h('td', {}, [...b.targets.areaCodes, ...b.targets.deviceCodes].join(', '), detail.targetDeviceCount !== undefined ? h('div', { class: 'muted small' }, t('devicesCount', { n: detail.targetDeviceCount })) : null),
        h('td', {}, h('span', { class: `badge priority-${b.priority}` }, priorityName(b.priority))),
        h('td', {}, progress(detail)),
      );
    });
    byId('broadcasts-table').tBodies[0].replaceChildren(...rows);
    byId('broadcasts-table').hidden = rows.length === 0;
    byId('broadcasts-empty').hidden = rows.length > 0;
  }
}

function scheduleText(b) {
  const at = dateTime(b.schedule.startAt);
  if (b.schedule.kind === 'now') return t('kindNowAt', { at });
  if (b.schedule.kind === 'once') return t('kindOnceAt', { at });
  return h('span', {}, t('kindRecurringFrom', { at }), h('div', { class: 'muted small code' }, b.schedule.rrule));
}

/** The play that matters now: the latest that has started, else the next one. */
function progress(detail) {
  if (detail.state === 'cancelled') return t('broadcastCancelled');
  const occurrences = detail.occurrences ?? [];
  const now = Date.now();
  const started = occurrences.filter((o) => Date.parse(o.startAt) <= now && !o.cancelledAt);
  const current = started.at(-1);
  if (!current) {
    const next = occurrences.find((o) => !o.cancelledAt);
    return next ? t('progressNext', { at: dateTime(next.startAt) }) : detail.state === 'completed' ? t('broadcastCompleted') : t('progressNone');
  }
  const counts = current.counts ?? {};
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const finished = DONE.reduce((a, s) => a + (counts[s] ?? 0), 0);
  const lost = LOST.reduce((a, s) => a + (counts[s] ?? 0), 0);
  const label = t('progressText', { finished, total });
  return h(
    'div',
    { class: 'progress-cell' },
    h('progress', { max: Math.max(total, 1), value: finished, 'aria-label': label }),
    h('span', {}, label),
    lost ? h('span', { class: 'error small' }, t('progressFailed', { n: lost })) : null,
  );
}
