import { DataSource } from 'typeorm';
import { summarise } from '../src/audit/audit-summary.js';
import { anAreaTree } from './support/factories.js';
import { aDevice } from './support/devices.js';
import { ADMIN, startTestApp, type TestApp } from './support/test-app.js';
import { aUser, type TestUser } from './support/users.js';

/**
 * The audit log's content. That every mutation route leaves an entry, allowed or refused,
 * is checked route by route in authorization.e2e-spec.ts; here: what an entry says.
 */
describe('audit log', () => {
  let t: TestApp;
  let tree: { province: string; district: string; commune: string };
  let operator: TestUser;

  beforeAll(async () => {
    t = await startTestApp({ TRUST_PROXY: 'true' });
    tree = await anAreaTree(t);
    operator = await aUser(t, 'operator', tree.district);
  });
  afterAll(() => t.close());

  const audit = (query = '') => t.http().get(`/api/v1/audit?${query}`).set('Authorization', t.auth).expect(200);
  const newest = async (query: string) => (await audit(`pageSize=1&${query}`)).body.items[0];

  it('records who changed what, the resource before and after, the outcome and where from', async () => {
    await t.http().patch(`/api/v1/areas/${tree.commune}`).set('Authorization', t.auth).set('X-Forwarded-For', '203.0.113.7').set('User-Agent', 'audit-test/1').send({ name: 'Xã Vi Hương' }).expect(200);

    const entry = await newest('action=area.update');

    expect(entry).toMatchObject({
      username: ADMIN.username,
      role: 'admin',
      method: 'PATCH',
      route: '/api/v1/areas/:code',
      action: 'area.update',
      resourceType: 'area',
      resourceId: tree.commune,
      statusCode: 200,
      outcome: 'ok',
      after: expect.objectContaining({ code: tree.commune, name: 'Xã Vi Hương' }),
      ip: '203.0.113.7',
      userAgent: 'audit-test/1',
    });
    expect(entry.before).toMatchObject({ code: tree.commune, name: expect.not.stringMatching(/^Xã Vi Hương$/) });
    expect(Date.now() - Date.parse(entry.at)).toBeLessThan(60_000);
  });

  it('names a created resource by the id it was given', async () => {
    const created = await t.http().post('/api/v1/devices').set('Authorization', t.auth).send({ code: 'audit-spk-1', name: 'Loa', areaCode: tree.commune }).expect(201);

    const entry = await newest('action=device.create');

    expect(entry).toMatchObject({ resourceType: 'device', resourceId: created.body.id ?? created.body.code, statusCode: 201, before: null });
  });

  it('never stores a secret, a password or a token', async () => {
    const device = await aDevice(t, { areaCode: tree.commune });
    const rotated = await t.http().post(`/api/v1/devices/${device.code}/rotate-secret`).set('Authorization', t.auth).expect(200);
    const login = await t.http().post('/api/v1/auth/login').send({ username: operator.username, password: operator.password }).expect(200);
    await t.http().post('/api/v1/auth/password').set('Authorization', `Bearer ${login.body.accessToken}`).send({ currentPassword: operator.password, newPassword: 'a-brand-new-passphrase' }).expect(204);

    const rows = (await t.app.get(DataSource).query(`SELECT before::text AS b, after::text AS a FROM audit_log`)) as { b: string | null; a: string | null }[];
    const stored = rows.map((r) => `${r.b ?? ''} ${r.a ?? ''}`).join('\n');

    for (const secret of [rotated.body.secret, operator.password, 'a-brand-new-passphrase', login.body.accessToken, login.body.refreshToken]) {
      expect(typeof secret).toBe('string');
      expect(stored).not.toContain(secret);
    }
    expect((await newest('action=device.rotate-secret')).after).toMatchObject({ secret: '[redacted]' });
  });

  it('records logins, failed ones with the username tried and no password', async () => {
    await t.http().post('/api/v1/auth/login').send({ username: 'nobody-here', password: 'guess-123456' }).expect(401);

    const failed = await newest('action=auth.login&outcome=denied');

    expect(failed).toMatchObject({ username: 'nobody-here', userId: null, statusCode: 401, outcome: 'denied', resourceType: 'user' });
    expect(JSON.stringify(failed)).not.toContain('guess-123456');
  });

  it('records refused and failed calls: a role without the right, no token, invalid input', async () => {
    await t.http().post('/api/v1/areas').set('Authorization', (await aUser(t, 'editor', tree.district)).auth).send({ code: 'x1', name: 'X', level: 'province' }).expect(403);
    const denied = await newest('action=area.create&outcome=denied');
    await t.http().delete(`/api/v1/devices/whatever`).expect(401);
    const anonymous = await newest('action=device.delete');
    await t.http().post('/api/v1/areas').set('Authorization', t.auth).send({ code: '', level: 'nowhere' }).expect(400);
    const invalid = await newest('action=area.create&outcome=failed');

    expect(denied).toMatchObject({ statusCode: 403, role: 'editor', after: expect.objectContaining({ error: 'forbidden' }) });
    expect(anonymous).toMatchObject({ statusCode: 401, outcome: 'denied', username: null, userId: null, resourceId: 'whatever' });
    expect(invalid).toMatchObject({ statusCode: 400, username: ADMIN.username, after: expect.objectContaining({ error: 'validation' }) });
  });

  it('does not record reads', async () => {
    const before = (await audit('pageSize=1')).body.total;
    await t.http().get('/api/v1/areas').set('Authorization', t.auth).expect(200);
    await t.http().get(`/api/v1/areas/${tree.commune}`).set('Authorization', t.auth).expect(200);

    expect((await audit('pageSize=1')).body.total).toBe(before);
  });

  it('filters by user, resource and time, newest first, in pages', async () => {
    const since = new Date().toISOString();
    const device = await aDevice(t, { areaCode: tree.commune });
    for (const volume of [10, 20, 30]) {
      await t.http().patch(`/api/v1/devices/${device.code}`).set('Authorization', t.auth).send({ volume }).expect(200);
    }

    const page1 = (await audit(`resourceType=device&resourceId=${device.code}&action=device.update&pageSize=2`)).body;
    const page2 = (await audit(`resourceType=device&resourceId=${device.code}&action=device.update&pageSize=2&page=2`)).body;
    const mine = (await audit(`username=${ADMIN.username}&from=${encodeURIComponent(since)}&pageSize=500`)).body;
    const later = (await audit(`from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).body;

    expect(page1.total).toBe(3);
    expect([...page1.items, ...page2.items].map((e: { after: { volume: number } }) => e.after.volume)).toEqual([30, 20, 10]);
    expect(page1.items[1].before).toMatchObject({ volume: 10 });
    expect(page2.items[0].before).toMatchObject({ volume: 80 });
    expect(mine.items.length).toBeGreaterThanOrEqual(4);
    expect(mine.items.every((e: { username: string }) => e.username === ADMIN.username)).toBe(true);
    expect(later.total).toBe(0);
  });

  it('is for admins only, and validates its filters', async () => {
    await t.http().get('/api/v1/audit').set('Authorization', (await aUser(t, 'approver', tree.district)).auth).expect(403);
    const bad = await t.http().get('/api/v1/audit?from=yesterday&outcome=maybe').set('Authorization', t.auth).expect(400);

    expect(bad.body.error).toBe('validation');
  });

  it('still answers a change when its entry cannot be written', async () => {
    const db = t.app.get(DataSource);
    await db.query(`ALTER TABLE audit_log RENAME TO audit_log_away`);
    try {
      await t.http().patch(`/api/v1/areas/${tree.district}`).set('Authorization', t.auth).send({ name: 'Huyện Bạch Thông' }).expect(200);
    } finally {
      await db.query(`ALTER TABLE audit_log_away RENAME TO audit_log`);
    }
    expect((await t.http().get(`/api/v1/areas/${tree.district}`).set('Authorization', t.auth).expect(200)).body.name).toBe('Huyện Bạch Thông');
  });
});

describe('audit summaries', () => {
  it('redact credentials at any depth and bound what they keep', () => {
    const summary = summarise({
      user: { password: 'x', nested: { refreshToken: 'y', apiSecret: 'z' } },
      items: Array.from({ length: 50 }, (_, i) => i),
      note: 'n'.repeat(1000),
    }) as { user: { password: string; nested: Record<string, string> }; items: unknown[]; note: string };

    expect(summary.user.password).toBe('[redacted]');
    expect(summary.user.nested).toEqual({ refreshToken: '[redacted]', apiSecret: '[redacted]' });
    expect(summary.items).toHaveLength(21);
    expect(summary.note.length).toBeLessThanOrEqual(201);
    expect(JSON.stringify(summarise({ big: Array.from({ length: 40 }, () => ({ text: 'a'.repeat(200) })) })).length).toBeLessThan(9 * 1024);
  });
});
