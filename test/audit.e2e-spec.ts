import { randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type request from 'supertest';
import { DataSource } from 'typeorm';
import { AuditFallbackMiddleware } from '../src/audit/audit-fallback.middleware.js';
import { REDACTED, summarise } from '../src/audit/audit-summary.js';
import { AuditTrail } from '../src/audit/audit-trail.service.js';
import type { UserRole } from '../src/auth/user.entity.js';
import { aDevice } from './support/devices.js';
import { anArea, anAreaTree, uniqueAreaCode } from './support/factories.js';
import { aWav, uploadAudio } from './support/media.js';
import { ADMIN, eventually, startTestApp, type TestApp } from './support/test-app.js';
import { aUser, type TestUser } from './support/users.js';

/**
 * The audit log: one entry per state-changing call, saying who, what, on which resource,
 * before and after, how it ended and from where. One row per mutation route of the app; a
 * completeness check fails when a route has none, so a new route gets its row here.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- bodies of every route
type Answer = { status: number; body: any };
type Method = 'post' | 'put' | 'patch' | 'delete';
/** A call of the row under test: admin by default, from the row's own address and user agent. */
type Caller = (method: Method, path: string, as?: TestUser | null) => request.Test;

interface Actor {
  userId: string | null;
  username: string | null;
  role: UserRole | null;
}

interface Fixtures {
  t: TestApp;
  tree: { province: string; district: string; commune: string };
  admin: Actor;
  /** Every credential the rows were handed; none may appear in the log. */
  secrets: string[];
  device(): Promise<string>;
  media(): Promise<string>;
  bulletin(status: 'draft' | 'submitted' | 'approved'): Promise<string>;
  webhook(): Promise<string>;
}

/** What the row's entry must say, beyond its route, action and status. */
interface Expected {
  res: Answer;
  resourceId: string | null;
  /** Defaults to the admin. */
  actor?: Actor;
  before: object | null;
  after: object | null;
}

interface Row {
  /** `METHOD /path` exactly as the router registers it. */
  route: string;
  status: number;
  action: string;
  resourceType: string;
  run(fx: Fixtures, call: Caller): Promise<Expected>;
}

const hex = () => randomBytes(4).toString('hex');
let slot = 0;
/** Scheduled broadcasts get distinct start times: same-priority overlaps on one device are refused. */
const laterSlot = () => new Date(Date.now() + 3600_000 + ++slot * 120_000).toISOString();
const actorOf = (u: TestUser): Actor => ({ userId: u.id, username: u.username, role: u.role });

const ROWS: Row[] = [
  // Areas.
  {
    route: 'POST /api/v1/areas',
    status: 201,
    action: 'area.create',
    resourceType: 'area',
    run: async (fx, call) => {
      const code = uniqueAreaCode('commune');
      const res = await call('post', '/api/v1/areas').send({ code, name: 'Xã Tân Lập', level: 'commune', parentCode: fx.tree.district });
      return { res, resourceId: code, before: null, after: { code, name: 'Xã Tân Lập' } };
    },
  },
  {
    route: 'POST /api/v1/areas/import',
    status: 200,
    action: 'area.import',
    resourceType: 'area',
    run: async (_fx, call) => {
      const csv = 'province_code,province_name,district_code,district_name,commune_code,commune_name,level\n97,Tỉnh thử,997,Huyện thử,99997,Xã thử,Xã\n';
      const res = await call('post', '/api/v1/areas/import').attach('file', Buffer.from(csv), 'gso.csv');
      return { res, resourceId: null, before: null, after: { created: 3, rows: 1 } };
    },
  },
  {
    route: 'PATCH /api/v1/areas/:code',
    status: 200,
    action: 'area.update',
    resourceType: 'area',
    run: async (fx, call) => {
      const area = await anArea(fx.t, { parentCode: fx.tree.district, name: 'Xã Cũ' });
      const res = await call('patch', `/api/v1/areas/${area.code}`).send({ name: 'Xã Mới' });
      return { res, resourceId: area.code, before: { code: area.code, name: 'Xã Cũ' }, after: { code: area.code, name: 'Xã Mới' } };
    },
  },
  {
    route: 'DELETE /api/v1/areas/:code',
    status: 204,
    action: 'area.delete',
    resourceType: 'area',
    run: async (fx, call) => {
      const area = await anArea(fx.t, { parentCode: fx.tree.district, name: 'Xã Bỏ' });
      const res = await call('delete', `/api/v1/areas/${area.code}`);
      return { res, resourceId: area.code, before: { code: area.code, name: 'Xã Bỏ' }, after: null };
    },
  },

  // Devices.
  {
    route: 'POST /api/v1/devices',
    status: 201,
    action: 'device.create',
    resourceType: 'device',
    run: async (fx, call) => {
      const code = `spk-${hex()}`;
      const res = await call('post', '/api/v1/devices').send({ code, name: 'Loa chợ', areaCode: fx.tree.commune });
      fx.secrets.push(res.body.secret);
      return { res, resourceId: code, before: null, after: { code, name: 'Loa chợ', secret: REDACTED } };
    },
  },
  {
    route: 'PATCH /api/v1/devices/:code',
    status: 200,
    action: 'device.update',
    resourceType: 'device',
    run: async (fx, call) => {
      const code = await fx.device();
      const res = await call('patch', `/api/v1/devices/${code}`).send({ volume: 35 });
      return { res, resourceId: code, before: { code, volume: 80 }, after: { code, volume: 35 } };
    },
  },
  {
    route: 'DELETE /api/v1/devices/:code',
    status: 204,
    action: 'device.delete',
    resourceType: 'device',
    run: async (fx, call) => {
      const code = await fx.device();
      const res = await call('delete', `/api/v1/devices/${code}`);
      return { res, resourceId: code, before: { code, decommissionedAt: null }, after: null };
    },
  },
  {
    route: 'POST /api/v1/devices/:code/rotate-secret',
    status: 200,
    action: 'device.rotate-secret',
    resourceType: 'device',
    run: async (fx, call) => {
      const code = await fx.device();
      const res = await call('post', `/api/v1/devices/${code}/rotate-secret`);
      fx.secrets.push(res.body.secret);
      return { res, resourceId: code, before: { code }, after: { secret: REDACTED } };
    },
  },
  {
    route: 'POST /api/v1/devices/:code/commands',
    status: 202,
    action: 'device-command.create',
    resourceType: 'device',
    run: async (fx, call) => {
      const code = await fx.device();
      const res = await call('post', `/api/v1/devices/${code}/commands`).send({ type: 'set_volume', volume: 40 });
      return { res, resourceId: code, before: null, after: { id: res.body.id, type: 'set_volume' } };
    },
  },

  // Media: an upload is multipart, and must reach its handler whole.
  {
    route: 'POST /api/v1/media',
    status: 201,
    action: 'media.create',
    resourceType: 'media',
    run: async (_fx, call) => {
      const res = await call('post', '/api/v1/media').attach('file', aWav(400), 'thong-bao.wav').field('title', 'Thông báo');
      return { res, resourceId: res.body.id, before: null, after: { id: res.body.id, title: 'Thông báo', sha256: res.body.sha256 } };
    },
  },
  {
    route: 'POST /api/v1/media/streams',
    status: 201,
    action: 'media.create-stream',
    resourceType: 'media',
    run: async (_fx, call) => {
      const res = await call('post', '/api/v1/media/streams').send({ title: 'VOV1', url: 'https://s.example.vn/vov1' });
      return { res, resourceId: res.body.id, before: null, after: { id: res.body.id, title: 'VOV1' } };
    },
  },

  // Bulletins: the before-image shows the status each step left.
  {
    route: 'POST /api/v1/bulletins',
    status: 201,
    action: 'bulletin.create',
    resourceType: 'bulletin',
    run: async (fx, call) => {
      const mediaId = await fx.media();
      const res = await call('post', '/api/v1/bulletins').send({ title: 'Lịch tiêm chủng', category: 'policy', mediaId });
      return { res, resourceId: res.body.id, before: null, after: { title: 'Lịch tiêm chủng', status: 'draft', media: expect.objectContaining({ id: mediaId }) } };
    },
  },
  {
    route: 'PATCH /api/v1/bulletins/:id',
    status: 200,
    action: 'bulletin.update',
    resourceType: 'bulletin',
    run: async (fx, call) => {
      const id = await fx.bulletin('draft');
      const res = await call('patch', `/api/v1/bulletins/${id}`).send({ notes: 'đọc chậm' });
      return { res, resourceId: id, before: { id, notes: null }, after: { id, notes: 'đọc chậm' } };
    },
  },
  ...(['submit', 'approve', 'reject'] as const).map(
    (step): Row => ({
      route: `POST /api/v1/bulletins/:id/${step}`,
      status: 200,
      action: `bulletin.${step}`,
      resourceType: 'bulletin',
      run: async (fx, call) => {
        const id = await fx.bulletin(step === 'submit' ? 'draft' : 'submitted');
        const res = await call('post', `/api/v1/bulletins/${id}/${step}`).send(step === 'reject' ? { reason: 'Sai tên xã' } : {});
        const after = { submit: { status: 'submitted' }, approve: { status: 'approved' }, reject: { status: 'rejected', rejectionReason: 'Sai tên xã' } }[step];
        return { res, resourceId: id, before: { id, status: step === 'submit' ? 'draft' : 'submitted' }, after: { id, ...after } };
      },
    }),
  ),

  // Broadcasts.
  {
    route: 'POST /api/v1/broadcasts',
    status: 201,
    action: 'broadcast.create',
    resourceType: 'broadcast',
    run: async (fx, call) => {
      const bulletinId = await fx.bulletin('approved');
      const res = await call('post', '/api/v1/broadcasts').send({
        bulletinId,
        targets: { areaCodes: [fx.tree.commune] },
        schedule: { kind: 'once', startAt: laterSlot() },
        priority: 'normal',
      });
      return { res, resourceId: res.body.id, before: null, after: { id: res.body.id, bulletinId, priority: 'normal' } };
    },
  },
  {
    route: 'POST /api/v1/broadcasts/emergency',
    status: 201,
    action: 'broadcast.emergency',
    resourceType: 'broadcast',
    run: async (fx, call) => {
      const bulletinId = await fx.bulletin('submitted');
      const res = await call('post', '/api/v1/broadcasts/emergency').send({ bulletinId, targets: { deviceCodes: [await fx.device()] } });
      return {
        res,
        resourceId: res.body.broadcast?.id,
        before: null,
        after: { bulletin: expect.objectContaining({ id: bulletinId, status: 'approved' }), broadcast: expect.objectContaining({ priority: 'emergency' }) },
      };
    },
  },
  {
    route: 'POST /api/v1/broadcasts/:id/cancel',
    status: 200,
    action: 'broadcast.cancel',
    resourceType: 'broadcast',
    run: async (fx, call) => {
      const bulletinId = await fx.bulletin('approved');
      const created = await fx.t
        .http()
        .post('/api/v1/broadcasts')
        .set('Authorization', fx.t.auth)
        .send({ bulletinId, targets: { areaCodes: [fx.tree.commune] }, schedule: { kind: 'once', startAt: laterSlot() }, priority: 'normal' })
        .expect(201);
      const id = created.body.id as string;
      const res = await call('post', `/api/v1/broadcasts/${id}/cancel`);
      return { res, resourceId: id, before: { id, state: 'active' }, after: { id, state: 'cancelled' } };
    },
  },

  // Accounts: a login names the user it tried and is made by nobody yet.
  {
    route: 'POST /api/v1/auth/login',
    status: 200,
    action: 'auth.login',
    resourceType: 'user',
    run: async (fx, call) => {
      const user = await aUser(fx.t, 'operator', fx.tree.district);
      fx.secrets.push(user.password);
      const res = await call('post', '/api/v1/auth/login', null).send({ username: user.username, password: user.password });
      fx.secrets.push(res.body.accessToken, res.body.refreshToken);
      return { res, resourceId: user.id, actor: actorOf(user), before: null, after: { accessToken: REDACTED, refreshToken: REDACTED } };
    },
  },
  {
    route: 'POST /api/v1/auth/refresh',
    status: 200,
    action: 'auth.refresh',
    resourceType: 'user',
    run: async (fx, call) => {
      const user = await aUser(fx.t, 'editor', fx.tree.district);
      const login = await fx.t.http().post('/api/v1/auth/login').send({ username: user.username, password: user.password }).expect(200);
      fx.secrets.push(login.body.refreshToken);
      const res = await call('post', '/api/v1/auth/refresh', null).send({ refreshToken: login.body.refreshToken });
      fx.secrets.push(res.body.accessToken, res.body.refreshToken);
      return { res, resourceId: user.id, actor: actorOf(user), before: null, after: { refreshToken: REDACTED } };
    },
  },
  {
    route: 'POST /api/v1/auth/logout',
    status: 204,
    action: 'auth.logout',
    resourceType: 'user',
    run: async (fx, call) => {
      const user = await aUser(fx.t, 'approver', fx.tree.district);
      const login = await fx.t.http().post('/api/v1/auth/login').send({ username: user.username, password: user.password }).expect(200);
      fx.secrets.push(login.body.refreshToken);
      const res = await call('post', '/api/v1/auth/logout', user).send({ refreshToken: login.body.refreshToken });
      return { res, resourceId: user.id, actor: actorOf(user), before: null, after: null };
    },
  },
  {
    route: 'POST /api/v1/auth/password',
    status: 204,
    action: 'auth.password',
    resourceType: 'user',
    run: async (fx, call) => {
      const user = await aUser(fx.t, 'operator', fx.tree.district);
      const newPassword = `new-${hex()}-passphrase`;
      fx.secrets.push(user.password, newPassword);
      const res = await call('post', '/api/v1/auth/password', user).send({ currentPassword: user.password, newPassword });
      return { res, resourceId: user.id, actor: actorOf(user), before: null, after: null };
    },
  },
  {
    route: 'POST /api/v1/users',
    status: 201,
    action: 'user.create',
    resourceType: 'user',
    run: async (fx, call) => {
      const username = `u-${hex()}`;
      const password = `pw-${hex()}-long-enough`;
      fx.secrets.push(password);
      const res = await call('post', '/api/v1/users').send({ username, password, role: 'editor', areaCode: fx.tree.district });
      return { res, resourceId: res.body.id, before: null, after: { username, role: 'editor', areaCode: fx.tree.district } };
    },
  },
  {
    route: 'PATCH /api/v1/users/:id',
    status: 200,
    action: 'user.update',
    resourceType: 'user',
    run: async (fx, call) => {
      const user = await aUser(fx.t, 'editor', fx.tree.district);
      const password = `pw-${hex()}-long-enough`;
      fx.secrets.push(password);
      const res = await call('patch', `/api/v1/users/${user.id}`).send({ role: 'approver', password });
      return { res, resourceId: user.id, before: { id: user.id, username: user.username, role: 'editor' }, after: { id: user.id, role: 'approver' } };
    },
  },
  {
    route: 'DELETE /api/v1/users/:id',
    status: 204,
    action: 'user.delete',
    resourceType: 'user',
    run: async (fx, call) => {
      const user = await aUser(fx.t, 'operator', fx.tree.district);
      const res = await call('delete', `/api/v1/users/${user.id}`);
      return { res, resourceId: user.id, before: { id: user.id, username: user.username, role: 'operator' }, after: null };
    },
  },

  // Alarms and webhooks.
  {
    route: 'POST /api/v1/alarms/:id/acknowledge',
    status: 200,
    action: 'alarm.acknowledge',
    resourceType: 'alarm',
    run: async (fx, call) => {
      // Raising a real alarm takes a speaker offline for minutes; the row is what the sweep would write.
      const code = await fx.device();
      const [alarm] = (await fx.t.app.get(DataSource).query(
        `INSERT INTO alarms (device_id, offline_since, state_seq) SELECT id, now() - interval '10 minutes', state_seq FROM devices WHERE code = $1 RETURNING id`,
        [code],
      )) as { id: string }[];
      const res = await call('post', `/api/v1/alarms/${alarm.id}/acknowledge`).send({ note: 'đã gọi xã' });
      return { res, resourceId: alarm.id, before: { id: alarm.id, acknowledgedAt: null }, after: { id: alarm.id, deviceCode: code, note: 'đã gọi xã' } };
    },
  },
  {
    route: 'PUT /api/v1/alarm-thresholds/:areaCode',
    status: 200,
    action: 'alarm-threshold.set',
    resourceType: 'alarm-threshold',
    run: async (fx, call) => {
      const area = await anArea(fx.t, { parentCode: fx.tree.district });
      const res = await call('put', `/api/v1/alarm-thresholds/${area.code}`).send({ offlineAfterS: 600 });
      return { res, resourceId: area.code, before: { areaCode: area.code, offlineAfterS: null }, after: { areaCode: area.code, offlineAfterS: 600 } };
    },
  },
  {
    route: 'POST /api/v1/webhooks',
    status: 201,
    action: 'webhook.create',
    resourceType: 'webhook',
    run: async (fx, call) => {
      const res = await call('post', '/api/v1/webhooks').send({ url: 'https://hooks.example.vn/loa' });
      fx.secrets.push(res.body.secret);
      return { res, resourceId: res.body.id, before: null, after: { url: 'https://hooks.example.vn/loa', secret: REDACTED } };
    },
  },
  {
    route: 'PATCH /api/v1/webhooks/:id',
    status: 200,
    action: 'webhook.update',
    resourceType: 'webhook',
    run: async (fx, call) => {
      const id = await fx.webhook();
      const res = await call('patch', `/api/v1/webhooks/${id}`).send({ enabled: false });
      return { res, resourceId: id, before: { id, enabled: true }, after: { id, enabled: false } };
    },
  },
  {
    route: 'DELETE /api/v1/webhooks/:id',
    status: 204,
    action: 'webhook.delete',
    resourceType: 'webhook',
    run: async (fx, call) => {
      const id = await fx.webhook();
      const res = await call('delete', `/api/v1/webhooks/${id}`);
      return { res, resourceId: id, before: { id, url: 'https://hooks.example.vn/hook' }, after: null };
    },
  },
];

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** `METHOD /path` of every state-changing route the app's Express router holds. */
function mutationRoutes(t: TestApp): string[] {
  const express = t.app.getHttpAdapter().getInstance() as { router?: RouterLike; _router?: RouterLike };
  const stack = (express.router ?? express._router)?.stack ?? [];
  return stack.flatMap((layer) =>
    layer.route
      ? Object.keys(layer.route.methods)
          .map((m) => m.toUpperCase())
          .filter((m) => MUTATING.has(m))
          .map((m) => `${m} ${layer.route!.path}`)
      : [],
  );
}

interface RouterLike {
  stack: { route?: { path: string; methods: Record<string, boolean> } }[];
}

describe('audit log', () => {
  let fx: Fixtures;
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ TRUST_PROXY: 'true' });
    const tree = await anAreaTree(t);
    const me = await t.http().get('/api/v1/auth/me').set('Authorization', t.auth).expect(200);
    const adminPost = async (path: string, body: object, status: number) => {
      const res = await t.http().post(path).set('Authorization', t.auth).send(body);
      if (res.status !== status) throw new Error(`POST ${path}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    };
    fx = {
      t,
      tree,
      admin: { userId: me.body.id, username: ADMIN.username, role: 'admin' },
      secrets: [ADMIN.password, t.auth.slice('Bearer '.length)],
      async device() {
        const device = await aDevice(t, { areaCode: tree.commune });
        this.secrets.push(device.secret);
        return device.code;
      },
      async media() {
        return (await uploadAudio(t, { durationMs: 300 })).id;
      },
      async bulletin(status) {
        const { id } = await adminPost('/api/v1/bulletins', { title: 'Bản tin', category: 'news', mediaId: await this.media() }, 201);
        if (status !== 'draft') await adminPost(`/api/v1/bulletins/${id}/submit`, {}, 200);
        if (status === 'approved') await adminPost(`/api/v1/bulletins/${id}/approve`, {}, 200);
        return id as string;
      },
      async webhook() {
        const created = await adminPost('/api/v1/webhooks', { url: 'https://hooks.example.vn/hook' }, 201);
        this.secrets.push(created.secret);
        return created.id as string;
      },
    };
  });
  afterAll(() => t?.close());

  const db = () => t.app.get(DataSource);
  const audit = (query = '') => t.http().get(`/api/v1/audit?${query}`).set('Authorization', t.auth).expect(200);
  const newest = async (query: string) => (await audit(`pageSize=1&${query}`)).body.items[0];

  it('has a row for every state-changing route the app serves, and only for those', () => {
    const routes = mutationRoutes(t);
    const rows = ROWS.map((r) => r.route);

    expect(routes.filter((r) => !rows.includes(r))).toEqual([]);
    expect(rows.filter((r) => !routes.includes(r))).toEqual([]);
  });

  describe.each(ROWS.map((row, i) => [row.route, row, i] as const))('%s', (_route, row, i) => {
    it(`records ${row.action}: who, on what, before and after, outcome and address`, async () => {
      const ip = `198.51.100.${i + 1}`;
      const userAgent = `audit-e2e/${i}`;
      const [method] = row.route.split(' ');
      const call: Caller = (verb, path, as = undefined) => {
        const req = t.http()[verb](path).set('X-Forwarded-For', ip).set('User-Agent', userAgent);
        const auth = as === undefined ? t.auth : as?.auth;
        return auth ? req.set('Authorization', auth) : req;
      };

      const expected = await row.run(fx, call);

      expect({ status: expected.res.status, body: expected.res.body }).toMatchObject({ status: row.status });
      const ids = (await db().query(`SELECT id FROM audit_log WHERE user_agent = $1`, [userAgent])) as { id: string }[];
      expect(ids).toHaveLength(1);
      const listed = (await audit(`action=${row.action}&pageSize=100`)).body.items as { id: string }[];
      const entry = listed.find((e) => e.id === ids[0].id);
      expect(entry).toEqual({
        id: ids[0].id,
        at: expect.any(String),
        ...(expected.actor ?? fx.admin),
        method,
        route: row.route.slice(method.length + 1),
        action: row.action,
        resourceType: row.resourceType,
        resourceId: expected.resourceId,
        statusCode: row.status,
        outcome: 'ok',
        before: expected.before === null ? null : expect.objectContaining(expected.before),
        after: expected.after === null ? null : expect.objectContaining(expected.after),
        ip,
        userAgent,
      });
    });
  });

  it('never stores a password, a secret or a token', async () => {
    const stored = ((await db().query(`SELECT to_jsonb(a)::text AS entry FROM audit_log a`)) as { entry: string }[]).map((r) => r.entry).join('\n');
    const secrets = fx.secrets.filter((s) => typeof s === 'string' && s.length >= 8);

    expect(secrets.length).toBeGreaterThan(20);
    expect(secrets.filter((s) => stored.includes(s))).toEqual([]);
  });

  it('records an attempt refused for a role without the right as denied, with the caller', async () => {
    const operator = await aUser(t, 'operator', fx.tree.district);

    await t.http().post('/api/v1/areas').set('Authorization', operator.auth).set('X-Forwarded-For', '203.0.113.9').send({ code: 'x1', name: 'X', level: 'province' }).expect(403);

    expect(await newest('action=area.create&outcome=denied')).toMatchObject({
      userId: operator.id,
      username: operator.username,
      role: 'operator',
      route: '/api/v1/areas',
      resourceType: 'area',
      statusCode: 403,
      outcome: 'denied',
      before: null,
      after: expect.objectContaining({ error: 'forbidden' }),
      ip: '203.0.113.9',
    });
  });

  it('records an attempt without a token as denied, by nobody', async () => {
    const code = await fx.device();

    await t.http().delete(`/api/v1/devices/${code}`).set('X-Forwarded-For', '203.0.113.10').expect(401);

    expect(await newest(`action=device.delete&resourceId=${code}`)).toMatchObject({
      userId: null,
      username: null,
      role: null,
      resourceId: code,
      statusCode: 401,
      outcome: 'denied',
      ip: '203.0.113.10',
    });
    expect((await t.http().get(`/api/v1/devices/${code}`).set('Authorization', t.auth).expect(200)).body.decommissionedAt ?? null).toBeNull();
  });

  it('records a failed login with the username tried and never the password', async () => {
    await t.http().post('/api/v1/auth/login').send({ username: 'nobody-here', password: 'guess-123456' }).expect(401);

    const failed = await newest('action=auth.login&outcome=denied');

    expect(failed).toMatchObject({ username: 'nobody-here', userId: null, role: null, statusCode: 401, outcome: 'denied', resourceType: 'user' });
    expect(JSON.stringify(failed)).not.toContain('guess-123456');
  });

  it('records a call its handler refuses as failed, with the error it answered', async () => {
    await t.http().post('/api/v1/areas').set('Authorization', t.auth).send({ code: '', level: 'nowhere' }).expect(400);
    const invalid = await newest('action=area.create&outcome=failed');
    await t.http().post(`/api/v1/bulletins/${randomUUID()}/approve`).set('Authorization', t.auth).expect(404);
    const missing = await newest('action=bulletin.approve&outcome=failed');

    expect(invalid).toMatchObject({ statusCode: 400, username: ADMIN.username, after: expect.objectContaining({ error: 'validation' }) });
    expect(missing).toMatchObject({ statusCode: 404, before: null, after: expect.objectContaining({ error: 'not-found' }) });
  });

  it('does not record reads', async () => {
    const before = (await audit('pageSize=1')).body.total;

    await t.http().get('/api/v1/areas').set('Authorization', t.auth).expect(200);
    await t.http().get(`/api/v1/areas/${fx.tree.commune}`).set('Authorization', t.auth).expect(200);

    expect((await audit('pageSize=1')).body.total).toBe(before);
  });

  it('filters by user, action, resource and time, newest first, in pages', async () => {
    const since = new Date().toISOString();
    const code = await fx.device();
    for (const volume of [10, 20, 30]) {
      await t.http().patch(`/api/v1/devices/${code}`).set('Authorization', t.auth).send({ volume }).expect(200);
    }

    const page1 = (await audit(`resourceType=device&resourceId=${code}&action=device.update&pageSize=2`)).body;
    const page2 = (await audit(`resourceType=device&resourceId=${code}&action=device.update&pageSize=2&page=2`)).body;
    const mine = (await audit(`username=${ADMIN.username}&from=${encodeURIComponent(since)}&pageSize=500`)).body;
    const earlier = (await audit(`to=${encodeURIComponent(since)}&resourceId=${code}`)).body;
    const later = (await audit(`from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).body;

    expect([page1.total, page1.page, page1.pageSize]).toEqual([3, 1, 2]);
    expect([...page1.items, ...page2.items].map((e: { after: { volume: number } }) => e.after.volume)).toEqual([30, 20, 10]);
    expect(page1.items[1].before).toMatchObject({ volume: 10 });
    expect(page2.items[0].before).toMatchObject({ volume: 80 });
    expect(mine.items.length).toBeGreaterThanOrEqual(4);
    expect(mine.items.every((e: { username: string }) => e.username === ADMIN.username)).toBe(true);
    expect(earlier.total).toBe(0);
    expect(later.total).toBe(0);
  });

  it('is for admins only, and validates its filters', async () => {
    const approver = await aUser(t, 'approver', fx.tree.district);

    const refused = await t.http().get('/api/v1/audit').set('Authorization', approver.auth);
    const bad = await t.http().get('/api/v1/audit?from=yesterday&outcome=maybe').set('Authorization', t.auth);

    expect([refused.status, refused.body.error]).toEqual([403, 'forbidden']);
    expect([bad.status, bad.body.error]).toEqual([400, 'validation']);
  });

  it('records a call answered without the guard or the interceptor once its response has gone', async () => {
    // What a guard of a route's own would leave: a refused call that neither wrote an entry for.
    const fallback = new AuditFallbackMiddleware(t.app.get(AuditTrail));
    const response = Object.assign(new EventEmitter(), { statusCode: 403 });
    const code = await fx.device();
    const request = {
      method: 'POST',
      path: `/api/v1/devices/${code}/rotate-secret`,
      route: { path: '/api/v1/devices/:code/rotate-secret' },
      params: { code },
      ip: '203.0.113.11',
      headers: { 'user-agent': 'audit-e2e/fallback' },
    };
    let passedOn = false;

    fallback.use(request, response, () => (passedOn = true));
    response.emit('finish');
    response.emit('finish');

    expect(passedOn).toBe(true);
    const entries = await eventually(async () => {
      const rows = (await db().query(`SELECT action, resource_id, status_code, outcome, ip FROM audit_log WHERE user_agent = 'audit-e2e/fallback'`)) as object[];
      return rows.length ? rows : null;
    });
    expect(entries).toEqual([{ action: 'device.rotate-secret', resource_id: code, status_code: 403, outcome: 'denied', ip: '203.0.113.11' }]);
  });

  it('still answers a change when its entry cannot be written', async () => {
    await db().query(`ALTER TABLE audit_log RENAME TO audit_log_away`);
    try {
      await t.http().patch(`/api/v1/areas/${fx.tree.district}`).set('Authorization', t.auth).send({ name: 'Huyện Bạch Thông' }).expect(200);
    } finally {
      await db().query(`ALTER TABLE audit_log_away RENAME TO audit_log`);
    }

    expect((await t.http().get(`/api/v1/areas/${fx.tree.district}`).set('Authorization', t.auth).expect(200)).body.name).toBe('Huyện Bạch Thông');
  });
});

describe('audit summaries', () => {
  it('redact credentials at any depth and bound what they keep', () => {
    const summary = summarise({
      user: { password: 'x', nested: { refreshToken: 'y', apiSecret: 'z', passwordHash: 'h' } },
      items: Array.from({ length: 50 }, (_, i) => i),
      note: 'n'.repeat(1000),
    }) as { user: { password: string; nested: Record<string, string> }; items: unknown[]; note: string };

    expect(summary.user.password).toBe(REDACTED);
    expect(summary.user.nested).toEqual({ refreshToken: REDACTED, apiSecret: REDACTED, passwordHash: REDACTED });
    expect(summary.items).toHaveLength(21);
    expect(summary.note.length).toBeLessThanOrEqual(201);
    expect(JSON.stringify(summarise({ big: Array.from({ length: 40 }, () => ({ text: 'a'.repeat(200) })) })).length).toBeLessThan(9 * 1024);
  });

  it('redact credentials written into values: a URL with a password, a bearer token, a JWT', () => {
    const summary = summarise({
      url: 'https://loa:hunter2-secret@hooks.example.vn/x',
      header: 'Bearer abc.def.ghi',
      note: 'token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl here',
    });

    expect(JSON.stringify(summary)).not.toMatch(/hunter2|abc\.def|eyJhbGciOiJIUzI1NiJ9/);
    expect(summary).toMatchObject({ url: expect.stringContaining('hooks.example.vn/x') });
  });
});
