// The fleet under the operator's root area: counts per child area, the offline list and
// the map, loaded once and then kept current by device.state events.
import { byId, h } from './dom.js';
import { dateTime, duration, integer, stateName } from './format.js';
import { t } from './i18n.js';
import { SpeakerMap } from './map.js';
import { api, apiAll } from './session.js';

const STATES = ['online', 'offline', 'unknown'];

export class FleetView {
  constructor() {
    /** code → { code, name, areaCode, state, stateChangedAt, latitude, longitude, group } */
    this.devices = new Map();
    /** child areas of the root, plus the root itself when speakers hang on it directly */
    this.groups = [];
    this.map = new SpeakerMap(byId('fleet-map'), byId('map-note'));
    this.loaded = false;
    this.loading = false;
    this.pending = [];
    this.reloadTimer = null;
    this.renderTimer = null;
    // "Offline for" keeps counting without any event.
    setInterval(() => this.loaded && this.renderOffline(), 30_000);
  }

  /** (Re)loads the fleet; state events that arrive meanwhile are applied again on top. */
  async load(user) {
    this.user = user;
    this.loading = true;
    try {
      await this.fetchAll(user);
    } finally {
      this.loading = false;
      this.pending = [];
    }
  }

  async fetchAll(user) {
    const root = user.areaCode;
    const children = root
      ? await apiAll(`/api/v1/areas?parentCode=${encodeURIComponent(root)}`)
      : await apiAll('/api/v1/areas?level=province');
    const groups = children.length ? children.map((a) => ({ code: a.code, name: a.name })) : [{ code: root, name: user.areaName }];
    const devices = new Map();
    await Promise.all(
      groups.map(async (group) => {
        for (const d of await apiAll(`/api/v1/devices?areaCode=${encodeURIComponent(group.code)}`)) devices.set(d.code, record(d, group.code));
      }),
    );
    if (root && children.length) {
      const direct = await this.directlyUnderRoot(root, devices);
      if (direct.length) {
        groups.push({ code: root, name: t('directlyIn', { name: user.areaName ?? root }) });
        for (const d of direct) devices.set(d.code, record(d, root));
      }
    }
    this.groups = groups;
    this.devices = devices;
    this.loaded = true;
    for (const event of this.pending) this.apply(event);
    this.render();
  }

  /** Speakers attached to the root area itself rather than to one of its children. */
  async directlyUnderRoot(root, known) {
    const { total } = await api(`/api/v1/devices?areaCode=${encodeURIComponent(root)}&pageSize=1`);
    if (total <= known.size) return [];
    return (await apiAll(`/api/v1/devices?areaCode=${encodeURIComponent(root)}`)).filter((d) => !known.has(d.code));
  }

  /** Name of the child area a speaker belongs to, for lists that only carry its commune code. */
  placeOf(deviceCode) {
    const device = this.devices.get(deviceCode);
    return this.groups.find((g) => g.code === device?.group)?.name ?? null;
  }

  /** A device.state event: `{ deviceCode, name, areaCode, from, to, cause, at }`. */
  applyState(data) {
    if (this.loading) this.pending.push(data);
    if (this.loaded) this.apply(data);
  }

  apply(data) {
    const device = this.devices.get(data.deviceCode);
    if (!device) {
      // A speaker provisioned after the page loaded: which child area holds it is
      // simplest to learn by loading again, and new speakers are rare.
      this.scheduleReload();
      return;
    }
    if (device.stateChangedAt && Date.parse(data.at) < Date.parse(device.stateChangedAt)) return;
    device.state = data.to;
    device.stateChangedAt = data.at;
    this.map.update(device, [...this.devices.values()]);
    this.scheduleRender();
  }

  scheduleReload() {
    clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => this.load(this.user).catch((err) => console.warn('loa: fleet reload failed', err)), 2000);
  }

  /** Many events can arrive at once (a village losing power); draw once per frame. */
  scheduleRender() {
    if (this.renderTimer) return;
    this.renderTimer = requestAnimationFrame(() => {
      this.renderTimer = null;
      this.renderCounts();
      this.renderOffline();
    });
  }

  render() {
    if (!this.loaded) return;
    this.renderCounts();
    this.renderOffline();
    this.map.draw([...this.devices.values()]);
  }

  renderCounts() {
    const perGroup = new Map(this.groups.map((g) => [g.code, { online: 0, offline: 0, unknown: 0 }]));
    const totals = { online: 0, offline: 0, unknown: 0 };
    for (const d of this.devices.values()) {
      perGroup.get(d.group)[d.state]++;
      totals[d.state]++;
    }
    const all = totals.online + totals.offline + totals.unknown;
    byId('fleet-totals').replaceChildren(
      tile('total', t('totalSpeakers'), all),
      ...STATES.map((s) => tile(s, stateName(s), totals[s])),
    );
    byId('fleet-table').tBodies[0].replaceChildren(
      ...this.groups.map((g) => {
        const c = perGroup.get(g.code);
        return h(
          'tr',
          { dataset: { area: g.code } },
          h('th', { scope: 'row' }, g.name, ' ', h('span', { class: 'code' }, g.code)),
          ...STATES.map((s) => h('td', { class: `num ${c[s] && s !== 'online' ? s : ''}`, dataset: { state: s } }, integer(c[s]))),
          h('td', { class: 'num' }, integer(c.online + c.offline + c.unknown)),
        );
      }),
    );
  }

  renderOffline() {
    const now = Date.now();
    const groupNames = new Map(this.groups.map((g) => [g.code, g.name]));
    const offline = [...this.devices.values()]
      .filter((d) => d.state === 'offline')
      .sort((a, b) => (a.stateChangedAt ?? '').localeCompare(b.stateChangedAt ?? ''));
    byId('offline-table').tBodies[0].replaceChildren(
      ...offline.map((d) =>
        h(
          'tr',
          { dataset: { device: d.code } },
          h('th', { scope: 'row' }, d.name, ' ', h('span', { class: 'code' }, d.code)),
          h('td', {}, groupNames.get(d.group) ?? d.areaCode),
          h('td', {}, h('time', { datetime: d.stateChangedAt ?? '' }, dateTime(d.stateChangedAt))),
          h('td', {}, d.stateChangedAt ? duration(now - Date.parse(d.stateChangedAt)) : '—'),
        ),
      ),
    );
    byId('offline-table').hidden = offline.length === 0;
    byId('offline-empty').hidden = offline.length > 0;
  }
}

function record(d, group) {
  return {
    code: d.code,
    name: d.name,
    areaCode: d.areaCode,
    state: d.state,
    stateChangedAt: d.stateChangedAt,
    latitude: d.latitude,
    longitude: d.longitude,
    group,
  };
}

function tile(state, label, n) {
  return h('div', { class: `tile ${state}`, dataset: { state } }, h('span', { class: 'tile-n' }, integer(n)), h('span', { class: 'tile-label' }, label));
}
