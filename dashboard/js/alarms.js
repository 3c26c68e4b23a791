// Open offline alarms; operators acknowledge them ("someone is on it") with a note.
import { byId, h, say } from './dom.js';
import { dateTime, errorText } from './format.js';
import { t } from './i18n.js';
import { api, ApiError } from './session.js';

export class AlarmsView {
  /** `placeOf(deviceCode)`: the name of the area to show for a speaker, when known. */
  constructor({ can, placeOf }) {
    this.can = can;
    this.placeOf = placeOf;
    this.alarms = new Map();
    this.available = true;
  }

  async load() {
    try {
      const page = await api('/api/v1/alarms?state=open&pageSize=200');
      this.alarms = new Map(page.items.map((a) => [a.id, a]));
      this.available = true;
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) throw err;
      this.available = false;
    }
    this.render();
  }

  /** alarm.opened / alarm.acknowledged / alarm.cleared carry the whole AlarmDto. */
  onEvent(type, alarm) {
    if (type === 'alarm.cleared' || alarm.state === 'cleared') this.alarms.delete(alarm.id);
    else this.alarms.set(alarm.id, alarm);
    this.render();
  }

  render() {
    const alarms = [...this.alarms.values()].sort((a, b) => a.offlineSince.localeCompare(b.offlineSince));
    byId('alarms-table').tBodies[0].replaceChildren(
      ...alarms.map((a) =>
        h(
          'tr',
          { dataset: { alarm: a.id, device: a.deviceCode } },
          h('th', { scope: 'row' }, a.deviceName, ' ', h('span', { class: 'code' }, a.deviceCode)),
          h('td', {}, this.placeOf(a.deviceCode) ?? '', ' ', h('span', { class: 'code' }, a.areaCode)),
          h('td', {}, dateTime(a.offlineSince)),
          h('td', {}, a.acknowledgedAt ? [t('ackBy', { who: a.acknowledgedBy ?? '', at: dateTime(a.acknowledgedAt) }), a.note ? h('div', { class: 'muted small' }, a.note) : null] : t('notAcknowledged')),
          h('td', { class: 'actions' }, !a.acknowledgedAt && this.can('alarms:acknowledge') ? this.ackForm(a) : null),
        ),
      ),
    );
    byId('alarms-table').hidden = alarms.length === 0;
    const empty = byId('alarms-empty');
    empty.hidden = alarms.length > 0;
    empty.textContent = this.available ? t('noAlarms') : t('unavailable');
  }

  ackForm(alarm) {
    const label = t('ackNote', { name: alarm.deviceName });
    const note = h('input', { class: 'ack-note', maxlength: 500, 'aria-label': label, placeholder: t('notes') });
    const status = h('span', { class: 'form-status', role: 'status' });
    const form = h(
      'form',
      {
        class: 'inline-form',
        onsubmit: async (event) => {
          event.preventDefault();
          try {
            const updated = await api(`/api/v1/alarms/${alarm.id}/acknowledge`, { method: 'POST', json: note.value.trim() ? { note: note.value.trim() } : {} });
            this.onEvent('alarm.acknowledged', updated);
          } catch (err) {
            say(status, t('errorPrefix', { message: errorText(err) }), 'error');
          }
        },
      },
      note,
      h('button', { type: 'submit', class: 'secondary' }, t('acknowledge')),
      status,
    );
    return form;
  }
}
