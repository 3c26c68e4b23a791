// Speakers drawn where they stand, without a tile server (the LAN may have no Internet):
// an equirectangular projection of the devices' own bounding box, which over one province
// is indistinguishable from a real map projection.
import { svg } from './dom.js';
import { t } from './i18n.js';
import { stateName } from './format.js';

const WIDTH = 800;
const HEIGHT = 520;
const PAD = 28;
/** Half the span drawn around a lone speaker, in degrees (about 1 km). */
const MIN_HALF_SPAN = 0.01;

export class SpeakerMap {
  constructor(element, note) {
    this.element = element;
    this.note = note;
    this.dots = new Map();
  }

  /** Redraws every speaker; `devices` are the dashboard's device records. */
  draw(devices) {
    const placed = devices.filter((d) => typeof d.latitude === 'number' && typeof d.longitude === 'number');
    this.dots.clear();
    this.element.replaceChildren(svg('rect', { class: 'map-bg', x: 0, y: 0, width: WIDTH, height: HEIGHT, rx: 8 }));
    this.placedCount = placed.length;
    this.unplacedCount = devices.length - placed.length;
    if (placed.length > 0) {
      const project = projection(placed);
      this.element.append(graticule());
      // Offline last, so a dead speaker is never hidden under a live neighbour.
      const order = { online: 0, unknown: 1, offline: 2 };
      for (const device of [...placed].sort((a, b) => order[a.state] - order[b.state])) {
        const [x, y] = project(device.longitude, device.latitude);
        const dot = svg('circle', { cx: x.toFixed(1), cy: y.toFixed(1), r: 7, dataset: { device: device.code } }, svg('title'));
        this.dots.set(device.code, dot);
        this.paint(device);
        this.element.append(dot);
      }
    }
    this.describe(devices);
  }

  /** One speaker changed state: recolour its dot in place. */
  update(device, devices) {
    const dot = this.dots.get(device.code);
    if (dot) {
      this.paint(device);
      if (device.state === 'offline') this.element.append(dot);
    }
    this.describe(devices);
  }

  paint(device) {
    const dot = this.dots.get(device.code);
    dot.setAttribute('class', `speaker ${device.state}`);
    dot.dataset.state = device.state;
    dot.firstChild.textContent = `${device.name} (${device.code}) — ${stateName(device.state)}`;
  }

  describe(devices) {
    const counts = { online: 0, offline: 0, unknown: 0 };
    for (const d of devices) counts[d.state] = (counts[d.state] ?? 0) + 1;
    this.element.setAttribute('aria-label', t('mapLabel', { total: devices.length, ...counts }));
    if (this.placedCount === 0) this.note.textContent = t('mapEmpty');
    else this.note.textContent = this.unplacedCount ? t('mapNoCoordinates', { n: this.unplacedCount }) : '';
  }
}

function projection(placed) {
  let minLon = Infinity, maxLon = -Infinity, minLat = Infinity, maxLat = -Infinity;
  for (const { longitude, latitude } of placed) {
    minLon = Math.min(minLon, longitude);
    maxLon = Math.max(maxLon, longitude);
    minLat = Math.min(minLat, latitude);
    maxLat = Math.max(maxLat, latitude);
  }
  const midLat = (minLat + maxLat) / 2;
  const midLon = (minLon + maxLon) / 2;
  const kx = Math.cos((midLat * Math.PI) / 180);
  const halfW = Math.max((maxLon - minLon) / 2, MIN_HALF_SPAN) * kx;
  const halfH = Math.max((maxLat - minLat) / 2, MIN_HALF_SPAN);
  const scale = Math.min((WIDTH / 2 - PAD) / halfW, (HEIGHT / 2 - PAD) / halfH);
  return (lon, lat) => [WIDTH / 2 + (lon - midLon) * kx * scale, HEIGHT / 2 - (lat - midLat) * scale];
}

function graticule() {
  const group = svg('g', { class: 'graticule', 'aria-hidden': 'true' });
  for (let i = 1; i < 8; i++) group.append(svg('line', { x1: (WIDTH * i) / 8, y1: 0, x2: (WIDTH * i) / 8, y2: HEIGHT }));
  for (let i = 1; i < 5; i++) group.append(svg('line', { x1: 0, y1: (HEIGHT * i) / 5, x2: WIDTH, y2: (HEIGHT * i) / 5 }));
  return group;
}
