import type { MqttClient } from 'mqtt';
import { DataSource } from 'typeorm';
import { deviceTopic } from '../src/broker/topics.js';
import { anAreaTree } from './support/factories.js';
import { aDevice, closed, connect, nextMessage, refusalCode, subscribe } from './support/devices.js';
import { eventually, startTestApp, type TestApp } from './support/test-app.js';

const NOT_AUTHORIZED = 5;
const BAD_USERNAME_OR_PASSWORD = 4;

describe('devices API', () => {
  let t: TestApp;
  let tree: { province: string; district: string; commune: string };
  let otherTree: { province: string; district: string; commune: string };
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    tree = await anAreaTree(t);
    otherTree = await anAreaTree(t);
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
  });
  afterAll(() => t.close());

  const api = () => ({
    get: (path: string) => t.http().get(path).set('Authorization', t.auth),
    post: (path: string, body?: object) => t.http().post(path).set('Authorization', t.auth).send(body),
    patch: (path: string, body: object) => t.http().patch(path).set('Authorization', t.auth).send(body),
    delete: (path: string) => t.http().delete(path).set('Authorization', t.auth),
  });

  describe('provisioning', () => {
    it('returns the secret once and stores only its hash', async () => {
      const res = await api()
        .post('/api/v1/devices', { code: 'bk-vihuong-01', name: 'Cụm loa thôn Nà Pài', areaCode: tree.commune, latitude: 22.18, longitude: 105.85 })
        .expect(201);

      expect(res.body).toMatchObject({ code: 'bk-vihuong-01', name: 'Cụm loa thôn Nà Pài', areaCode: tree.commune, state: 'unknown', latitude: 22.18 });
      expect(res.body.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const [row] = await t.app.get(DataSource).query(`SELECT secret_hash FROM devices WHERE code = 'bk-vihuong-01'`);
      expect(row.secret_hash).toMatch(/^scrypt\$/);
      expect(row.secret_hash).not.toContain(res.body.secret);
      const again = await api().get('/api/v1/devices/bk-vihuong-01').expect(200);
      expect(again.body.secret).toBeUndefined();
    });

    it('refuses a taken code with 409', async () => {
      const existing = await aDevice(t, { areaCode: tree.commune });

      const res = await api().post('/api/v1/devices', { code: existing.code, name: 'dup', areaCode: tree.commune }).expect(409);

      expect(res.body.message).toContain(existing.code);
    });

    it.each([
      ['an uppercase code', { code: 'BK-01', name: 'x' }],
      ['a code too short', { code: 'ab', name: 'x' }],
      ['a code with a slash', { code: 'bk/01', name: 'x' }],
      ['a code with a wildcard', { code: 'bk-+', name: 'x' }],
      ['no name', { code: 'bk-noname' }],
      ['a latitude out of range', { code: 'bk-lat', name: 'x', latitude: 123 }],
      ['a name that is a number', { code: 'bk-num', name: 42 }],
      ['an unknown field', { code: 'bk-extra', name: 'x', secret: 'mine' }],
    ])('refuses %s with 400 and creates nothing', async (_what, body) => {
      const res = await api().post('/api/v1/devices', { areaCode: tree.commune, ...body }).expect(400);

      expect(res.body.error).toBe('validation');
      // An exact count: the list's `q` matches substrings, and a factory's random code can contain `ab`.
      const [{ n }] = await t.app.get(DataSource).query(`SELECT count(*)::int AS n FROM devices WHERE code = $1`, [String(body.code)]);
      expect(n).toBe(0);
    });

    it('refuses an unknown or malformed area code with 400', async () => {
      await api().post('/api/v1/devices', { code: 'bk-noarea', name: 'x', areaCode: '99999' }).expect(400);
      await api().post('/api/v1/devices', { code: 'bk-badarea', name: 'x', areaCode: "06'; drop table" }).expect(400);
      await api().get('/api/v1/devices/bk-noarea').expect(404);
    });

    it('refuses a body that is not JSON', async () => {
      await t.http().post('/api/v1/devices').set('Authorization', t.auth).set('Content-Type', 'application/json').send('{"code":').expect(400);
    });
  });

  describe('listing', () => {
    it('filters by area subtree, state and text, with paging', async () => {
      const inside = await aDevice(t, { areaCode: tree.commune, name: 'Loa chợ Phủ Thông' });
      const outside = await aDevice(t, { areaCode: otherTree.commune });

      const byProvince = (await api().get(`/api/v1/devices?areaCode=${tree.province}&pageSize=500`).expect(200)).body;
      const codes = byProvince.items.map((d: { code: string }) => d.code);
      expect(codes).toContain(inside.code);
      expect(codes).not.toContain(outside.code);

      const byText = (await api().get(`/api/v1/devices?q=${encodeURIComponent('chợ phủ')}`).expect(200)).body;
      expect(byText.items.map((d: { code: string }) => d.code)).toEqual([inside.code]);

      const unknown = (await api().get(`/api/v1/devices?state=unknown&areaCode=${otherTree.commune}`).expect(200)).body;
      expect(unknown.items.map((d: { code: string }) => d.code)).toEqual([outside.code]);

      const page = (await api().get('/api/v1/devices?page=1&pageSize=1').expect(200)).body;
      expect(page).toMatchObject({ page: 1, pageSize: 1 });
      expect(page.items).toHaveLength(1);
      expect(page.total).toBeGreaterThan(1);
    });

    it.each(['state=asleep', 'pageSize=0', 'pageSize=10000', 'page=-1', 'areaCode=%25', 'areaCode=99999'])('refuses ?%s with 400', async (query) => {
      await api().get(`/api/v1/devices?${query}`).expect(400);
    });

    it('treats % and _ in the search text literally', async () => {
      const res = await api().get('/api/v1/devices?q=%25').expect(200);

      expect(res.body.total).toBe(0);
    });
  });

  describe('changes', () => {
    it('updates name, place and volume, and republishes the retained config', async () => {
      const speaker = await aDevice(t, { areaCode: tree.commune });
      const client = await connect(t, speaker.code, speaker.secret);
      clients.push(client);

      const res = await api().patch(`/api/v1/devices/${speaker.code}`, { name: 'Loa UBND xã', latitude: 22.2, longitude: 105.9, volume: 55 }).expect(200);

      expect(res.body).toMatchObject({ name: 'Loa UBND xã', latitude: 22.2, longitude: 105.9, volume: 55 });
      const message = nextMessage(client, deviceTopic(speaker.code, 'config'));
      await subscribe(client, deviceTopic(speaker.code, 'config'));
      expect(JSON.parse((await message).payload.toString())).toMatchObject({ volume: 55 });
    });

    it('moves a device to another area and closes its session so it reconnects with the new area topics', async () => {
      const speaker = await aDevice(t, { areaCode: tree.commune });
      const client = await connect(t, speaker.code, speaker.secret);
      clients.push(client);

      await api().patch(`/api/v1/devices/${speaker.code}`, { areaCode: otherTree.commune }).expect(200);

      await closed(client);
      const again = await connect(t, speaker.code, speaker.secret);
      clients.push(again);
      expect(await subscribe(again, `loa/v1/areas/${otherTree.district}/commands`)).toBe(1);
      expect(await subscribe(again, `loa/v1/areas/${tree.district}/commands`)).toBe(128);
    });

    it('refuses an unknown device with 404 and a null name with 400', async () => {
      await api().patch('/api/v1/devices/no-such-device', { name: 'x' }).expect(404);
      const speaker = await aDevice(t, { areaCode: tree.commune });
      await api().patch(`/api/v1/devices/${speaker.code}`, { name: null }).expect(400);
      await api().patch(`/api/v1/devices/${speaker.code}`, { code: 'renamed' }).expect(400);
    });
  });

  describe('secrets', () => {
    it('rotates the secret: the live session closes, the old secret stops working, the new one works', async () => {
      const speaker = await aDevice(t, { areaCode: tree.commune });
      const client = await connect(t, speaker.code, speaker.secret);
      clients.push(client);

      const res = await api().post(`/api/v1/devices/${speaker.code}/rotate-secret`).expect(200);

      await closed(client);
      expect(res.body.secret).not.toBe(speaker.secret);
      expect(await refusalCode(t, speaker.code, speaker.secret)).toBe(BAD_USERNAME_OR_PASSWORD);
      expect(await refusalCode(t, speaker.code, res.body.secret)).toBe(0);
    });
  });

  describe('decommissioning', () => {
    it('cuts the device off, refuses it from then on, and records it offline', async () => {
      const speaker = await aDevice(t, { areaCode: tree.commune });
      const client = await connect(t, speaker.code, speaker.secret);
      clients.push(client);
      await eventually(async () => (await api().get(`/api/v1/devices/${speaker.code}`)).body.state === 'online');

      await api().delete(`/api/v1/devices/${speaker.code}`).expect(204);

      await closed(client);
      expect(await refusalCode(t, speaker.code, speaker.secret)).toBe(NOT_AUTHORIZED);
      const body = (await api().get(`/api/v1/devices/${speaker.code}`).expect(200)).body;
      expect(body.decommissionedAt).not.toBeNull();
      expect(body.state).toBe('offline');
      const history = (await api().get(`/api/v1/devices/${speaker.code}/state-changes`).expect(200)).body.items;
      expect(history[0]).toMatchObject({ from: 'online', to: 'offline', cause: 'decommissioned' });
      const listed = (await api().get(`/api/v1/devices?q=${speaker.code}`).expect(200)).body;
      expect(listed.total).toBe(0);
    });

    it('keeps the code taken and refuses changes to a decommissioned device', async () => {
      const speaker = await aDevice(t, { areaCode: tree.commune });
      await api().delete(`/api/v1/devices/${speaker.code}`).expect(204);

      await api().post('/api/v1/devices', { code: speaker.code, name: 'reuse', areaCode: tree.commune }).expect(409);
      await api().post(`/api/v1/devices/${speaker.code}/rotate-secret`).expect(409);
      await api().patch(`/api/v1/devices/${speaker.code}`, { name: 'x' }).expect(409);
      await api().delete(`/api/v1/devices/${speaker.code}`).expect(204);
      await api().delete('/api/v1/devices/no-such-device').expect(404);
    });
  });

  it('serves the OpenAPI description at /api/docs', async () => {
    const res = await t.http().get('/api/docs-json').expect(200);

    expect(Object.keys(res.body.paths)).toEqual(expect.arrayContaining(['/api/v1/devices', '/api/v1/devices/{code}/rotate-secret', '/api/v1/auth/login']));
  });
});
