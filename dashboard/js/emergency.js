// An emergency interrupts whatever plays in a whole area, so it is never one click: the
// dialog names the bulletin and the area, and Cancel has the focus.
import { areaLabel } from './areas.js';
import { byId, h, say } from './dom.js';
import { errorText } from './format.js';
import { t } from './i18n.js';
import { api } from './session.js';

export class EmergencyView {
  constructor({ onSent }) {
    this.onSent = onSent;
    this.candidates = [];
    this.form = byId('emergency-form');
    this.status = this.form.querySelector('.form-status');
    this.dialog = byId('emergency-dialog');
    this.form.addEventListener('submit', (e) => this.confirm(e));
  }

  /** Bulletins it can send: submitted ones are approved by the same request. */
  setBulletins(bulletins) {
    this.candidates = bulletins.filter((b) => b.status === 'submitted' || b.status === 'approved');
    const select = byId('emergency-bulletin');
    const chosen = select.value;
    select.replaceChildren(
      ...(this.candidates.length
        ? this.candidates.map((b) => h('option', { value: b.id }, b.title))
        : [h('option', { value: '' }, t('noEmergencyBulletin'))]),
    );
    if (this.candidates.some((b) => b.id === chosen)) select.value = chosen;
  }

  confirm(event) {
    event.preventDefault();
    const bulletin = this.candidates.find((b) => b.id === byId('emergency-bulletin').value);
    const areaCode = byId('emergency-area').value.trim();
    if (!bulletin) return say(this.status, t('needBulletin'), 'error');
    if (!areaCode) return say(this.status, t('needArea'), 'error');
    byId('emergency-dialog-text').textContent = t('confirmEmergencyText', { title: bulletin.title, area: areaLabel(areaCode) });
    this.dialog.returnValue = 'cancel';
    this.dialog.addEventListener(
      'close',
      () => (this.dialog.returnValue === 'confirm' ? this.send(bulletin, areaCode) : say(this.status, t('emergencyCancelled'))),
      { once: true },
    );
    this.dialog.showModal();
  }

  async send(bulletin, areaCode) {
    const volume = byId('emergency-volume').value;
    try {
      const { broadcast } = await api('/api/v1/broadcasts/emergency', {
        method: 'POST',
        json: { bulletinId: bulletin.id, targets: { areaCodes: [areaCode] }, ...(volume !== '' ? { volume: Number(volume) } : {}) },
      });
      say(this.status, t('emergencySent', { n: broadcast.targetDeviceCount }));
      await this.onSent();
    } catch (err) {
      say(this.status, err.status === 404 && !err.body?.error ? t('unavailable') : t('errorPrefix', { message: errorText(err) }), 'error');
    }
  }
}
