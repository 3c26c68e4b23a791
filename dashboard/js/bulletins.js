// Upload → draft → submit → approve → schedule. Each step shows only for roles that may
// take it (the server decides anyway; this keeps useless buttons off the screen).
import { byId, h, say } from './dom.js';
import { CATEGORIES, categoryName, errorText, isoToVietnamLocal, statusName, vietnamLocalToIso } from './format.js';
import { t } from './i18n.js';
import { api, ApiError } from './session.js';

const SHOWN = 20;

export class BulletinsView {
  /** `can(permission)`; `onScheduled()` after a broadcast is created. */
  constructor({ can, onScheduled, onChange }) {
    this.can = can;
    this.onScheduled = onScheduled;
    this.onChange = onChange;
    this.items = [];
    this.status = byId('bulletins-status');
    byId('upload-form').addEventListener('submit', (e) => this.upload(e));
    byId('schedule-form').addEventListener('submit', (e) => this.schedule(e));
    byId('schedule-form').addEventListener('change', () => this.showScheduleFields());
    this.showScheduleFields();
  }

  async load() {
    this.items = (await api(`/api/v1/bulletins?pageSize=${SHOWN}`)).items;
    this.render();
    this.onChange?.(this.items);
  }

  render() {
    const select = byId('upload-category');
    const chosen = select.value;
    select.replaceChildren(...CATEGORIES.map((c) => h('option', { value: c }, categoryName(c))));
    select.value = chosen || 'news';
    this.renderScheduleOptions();
    byId('bulletins-table').tBodies[0].replaceChildren(
      ...this.items.map((b) =>
        h(
          'tr',
          { dataset: { bulletin: b.id, status: b.status } },
          h('th', { scope: 'row' }, b.title),
          h('td', {}, categoryName(b.category)),
          h('td', {}, h('span', { class: `badge status-${b.status}` }, statusName(b.status)), b.rejectionReason ? h('div', { class: 'muted small' }, b.rejectionReason) : null),
          h('td', { class: 'actions' }, ...this.actionsFor(b)),
        ),
      ),
    );
    byId('bulletins-table').hidden = this.items.length === 0;
    byId('bulletins-empty').hidden = this.items.length > 0;
  }

  actionsFor(b) {
    const act = (label, handler, cls = 'secondary') => h('button', { type: 'button', class: cls, onclick: handler, 'aria-label': `${label}: ${b.title}` }, label);
    const actions = [];
    if ((b.status === 'draft' || b.status === 'rejected') && this.can('bulletins:write')) actions.push(act(t('submit'), () => this.step(b, 'submit', 'submitted')));
    if (b.status === 'submitted' && this.can('bulletins:review')) {
      actions.push(act(t('approve'), () => this.step(b, 'approve', 'approved'), 'primary'));
      actions.push(act(t('reject'), () => this.reject(b)));
    }
    if (b.status === 'approved' && this.can('broadcasts:write')) {
      actions.push(
        act(t('scheduleIt'), () => {
          byId('schedule-bulletin').value = b.id;
          byId('schedule-area').focus();
        }),
      );
    }
    return actions;
  }

  async step(b, action, messageKey) {
    try {
      await api(`/api/v1/bulletins/${b.id}/${action}`, { method: 'POST', json: {} });
      say(this.status, t(messageKey, { title: b.title }));
      await this.load();
    } catch (err) {
      say(this.status, t('errorPrefix', { message: errorText(err) }), 'error');
    }
  }

  async reject(b) {
    const reason = prompt(t('rejectReason'));
    if (!reason?.trim()) return;
    try {
      await api(`/api/v1/bulletins/${b.id}/reject`, { method: 'POST', json: { reason: reason.trim() } });
      say(this.status, t('rejected', { title: b.title }));
      await this.load();
    } catch (err) {
      say(this.status, t('errorPrefix', { message: errorText(err) }), 'error');
    }
  }

  async upload(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const status = form.querySelector('.form-status');
    const file = byId('upload-file').files[0];
    const title = byId('upload-title').value.trim();
    if (!file) return say(status, t('chooseFile'), 'error');
    if (!title) return say(status, t('needTitle'), 'error');
    const submit = form.querySelector('button[type=submit]');
    submit.disabled = true;
    say(status, t('uploading'));
    try {
      const body = new FormData();
      body.append('file', file);
      body.append('title', title);
      const media = await api('/api/v1/media', { method: 'POST', form: body });
      const notes = byId('upload-notes').value.trim();
      await api('/api/v1/bulletins', {
        method: 'POST',
        json: { title, category: byId('upload-category').value, mediaId: media.id, ...(notes ? { notes } : {}) },
      });
      form.reset();
      say(status, t('draftCreated', { title }));
      await this.load();
    } catch (err) {
      say(status, t('errorPrefix', { message: errorText(err) }), 'error');
    } finally {
      submit.disabled = false;
    }
  }

  renderScheduleOptions() {
    const select = byId('schedule-bulletin');
    const chosen = select.value;
    const approved = this.items.filter((b) => b.status === 'approved');
    select.replaceChildren(
      ...(approved.length ? approved.map((b) => h('option', { value: b.id }, b.title)) : [h('option', { value: '' }, t('noApprovedBulletin'))]),
    );
    if (approved.some((b) => b.id === chosen)) select.value = chosen;
  }

  showScheduleFields() {
    const kind = byId('schedule-form').elements.kind.value;
    const start = byId('schedule-start');
    const rrule = byId('schedule-rrule');
    for (const [input, shown] of [[start, kind !== 'now'], [rrule, kind === 'recurring']]) {
      input.hidden = !shown;
      input.labels[0].hidden = !shown;
    }
    if (kind !== 'now' && !start.value) start.value = isoToVietnamLocal(new Date(Date.now() + 3600_000));
  }

  async schedule(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const status = form.querySelector('.form-status');
    const bulletinId = byId('schedule-bulletin').value;
    const areaCode = byId('schedule-area').value.trim();
    const kind = form.elements.kind.value;
    const startAt = byId('schedule-start').value;
    const rrule = byId('schedule-rrule').value.trim();
    if (!bulletinId) return say(status, t('needBulletin'), 'error');
    if (!areaCode) return say(status, t('needArea'), 'error');
    if (kind !== 'now' && !startAt) return say(status, t('needStart'), 'error');
    if (kind === 'recurring' && !rrule) return say(status, t('needRrule'), 'error');
    const schedule = kind === 'now' ? { kind } : { kind, startAt: vietnamLocalToIso(startAt), ...(kind === 'recurring' ? { rrule } : {}) };
    try {
      const created = await api('/api/v1/broadcasts', {
        method: 'POST',
        json: { bulletinId, targets: { areaCodes: [areaCode] }, schedule, priority: byId('schedule-priority').value },
      });
      say(status, t('scheduled', { n: created.targetDeviceCount }));
      await this.onScheduled();
    } catch (err) {
      const clashes = err instanceof ApiError && err.body?.error === 'overlap' ? err.body.clashes?.length : null;
      say(status, clashes ? t('overlap', { n: clashes }) : t('errorPrefix', { message: errorText(err) }), 'error');
    }
  }
}
