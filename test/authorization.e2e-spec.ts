import { randomBytes, randomUUID } from 'node:crypto';
import type request from 'supertest';
import { DataSource } from 'typeorm';
import { roleMay, type Permission } from '../src/auth/permissions.js';
import { USER_ROLES, type UserRole } from '../src/auth/user.entity.js';
import { anArea } from './support/factories.js';
import { aWav } from './support/media.js';
import { ADMIN, startTestApp, type TestApp } from './support/test-app.js';
import { aUser, type TestUser } from './support/users.js';

/**
 * Who may call what, route by route: one row per route of the app. Every role is checked
 * against every row: a role without the route's permission gets 403; a role with it
 * succeeds inside its district D, and an object of the sibling district S is answered like
 * a missing one (404, or the 400 an unknown reference gets). Admins are unscoped: they
 * succeed on both. A completeness check fails when a route of the app has no row.
 * Every call to a route that changes something must leave its audit entry, allowed or not.
 */

type Where = 'in' | 'out';
type Access = Permission | 'public';
type Call = request.Test;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- bodies of every route
type Answer = { status: number; body: any };

interface Fixtures {
  t: TestApp;
  /** Province P › district D (the users' scope) › commune C; sibling district S › commune SC. */
  areas: { P: string; D: string; C: string; S: string; SC: string };
  users: Record<UserRole, TestUser>;
  /** Objects made once for the rows that do not change them. */
  shared: Record<Where, { device: string; media: string; bulletin: string; broadcast: string; occurrence: string; command: string }>;
  commune(where: Where): string;
  district(where: Where): string;
  device(where: Where): Promise<string>;
  media(where: Where): Promise<string>;
  bulletin(where: Where, status?: 'draft' | 'submitted' | 'approved'): Promise<string>;
  broadcast(where: Where): Promise<{ id: string; occurrence: string }>;
}

interface Row {
  /** `METHOD /path` exactly as the router registers it. */
  route: string;
  access: Access;
  /** Status of a permitted call. */
  ok: number;
  /**
   * Status of a permitted non-admin call that names something of district S (an object in
   * the path, or a reference or filter in the body or query); absent when nothing is scoped.
   */
  out?: number;
  /** The request; `auth` is the caller's Authorization header (null: none). */
  send(fx: Fixtures, where: Where, auth: string | null): PromiseLike<Answer>;
  /** For lists: ids (as `key` of an item) that must show inside the scope and must not outside it. */
  lists?: { key: string; of: (fx: Fixtures, where: Where) => string };
}

const ROLES: readonly UserRole[] = USER_ROLES;
let startAtOffset = 0;
/** Each scheduled broadcast gets its own start time: same-priority overlaps on one device are refused. */
const laterSlot = () => new Date(Date.now() + 3600_000 + ++startAtOffset * 120_000).toISOString();

const withAuth = (call: Call, auth: string | null): Call => (auth ? call.set('Authorization', auth) : call);
const get = (fx: Fixtures, path: string, auth: string | null) => withAuth(fx.t.http().get(path), auth);
const post = (fx: Fixtures, path: string, auth: string | null, body: object = {}) => withAuth(fx.t.http().post(path), auth).send(body);
const patch = (fx: Fixtures, path: string, auth: string | null, body: object) => withAuth(fx.t.http().patch(path), auth).send(body);
const put = (fx: Fixtures, path: string, auth: string | null, body: object) => withAuth(fx.t.http().put(path), auth).send(body);
const del = (fx: Fixtures, path: string, auth: string | null) => withAuth(fx.t.http().delete(path), auth);
const code = (prefix: string) => `${prefix}${randomBytes(4).toString('hex')}`;
const dayWindow = () => `from=${new Date(Date.now() - 86_400_000).toISOString()}&to=${new Date(Date.now() + 86_400_000 * 2).toISOString()}`;

const ROWS: Row[] = [
  // Areas: the tree is admin business; everyone reads their own subtree.
  {
    route: 'POST /api/v1/areas',
    access: 'fleet:admin',
    ok: 201,
    send: (fx, w, auth) => post(fx, '/api/v1/areas', auth, { code: code('c'), name: 'Xã mới', level: 'commune', parentCode: fx.district(w) }),
  },
  {
    route: 'POST /api/v1/areas/import',
    access: 'fleet:admin',
    ok: 200,
    send: (fx, _w, auth) => {
      const csv = 'province_code,province_name,district_code,district_name,commune_code,commune_name,level\n98,Tỉnh thử,998,Huyện thử,99998,Xã thử,Xã\n';
      return withAuth(fx.t.http().post('/api/v1/areas/import'), auth).attach('file', Buffer.from(csv), 'gso.csv');
    },
  },
  {
    route: 'GET /api/v1/areas',
    access: 'read',
    ok: 200,
    out: 404,
    send: (fx, w, auth) => get(fx, w === 'in' ? '/api/v1/areas?level=commune&pageSize=100' : `/api/v1/areas?parentCode=${fx.areas.S}`, auth),
    lists: { key: 'code', of: (fx, w) => fx.commune(w) },
  },
  { route: 'GET /api/v1/areas/:code', access: 'read', ok: 200, out: 404, send: (fx, w, auth) => get(fx, `/api/v1/areas/${fx.commune(w)}`, auth) },
  {
    route: 'PATCH /api/v1/areas/:code',
    access: 'fleet:admin',
    ok: 200,
    send: (fx, w, auth) => patch(fx, `/api/v1/areas/${fx.commune(w)}`, auth, { name: `Xã ${code('')}` }),
  },
  {
    route: 'DELETE /api/v1/areas/:code',
    access: 'fleet:admin',
    ok: 204,
    send: async (fx, w, auth) => del(fx, `/api/v1/areas/${(await anArea(fx.t, { parentCode: fx.district(w) })).code}`, auth),
  },

  // Device registry: admin writes; reads and commands within the scope.
  {
    route: 'POST /api/v1/devices',
    access: 'fleet:admin',
    ok: 201,
    send: (fx, w, auth) => post(fx, '/api/v1/devices', auth, { code: code('spk-'), name: 'Loa', areaCode: fx.commune(w) }),
  },
  {
    route: 'GET /api/v1/devices',
    access: 'read',
    ok: 200,
    out: 400,
    send: (fx, w, auth) => get(fx, w === 'in' ? '/api/v1/devices?pageSize=500' : `/api/v1/devices?areaCode=${fx.areas.S}`, auth),
    lists: { key: 'code', of: (fx, w) => fx.shared[w].device },
  },
  { route: 'GET /api/v1/devices/:code', access: 'read', ok: 200, out: 404, send: (fx, w, auth) => get(fx, `/api/v1/devices/${fx.shared[w].device}`, auth) },
  {
    route: 'PATCH /api/v1/devices/:code',
    access: 'fleet:admin',
    ok: 200,
    send: (fx, w, auth) => patch(fx, `/api/v1/devices/${fx.shared[w].device}`, auth, { name: `Loa ${code('')}` }),
  },
  { route: 'DELETE /api/v1/devices/:code', access: 'fleet:admin', ok: 204, send: async (fx, w, auth) => del(fx, `/api/v1/devices/${await fx.device(w)}`, auth) },
  {
    route: 'POST /api/v1/devices/:code/rotate-secret',
    access: 'fleet:admin',
    ok: 200,
    send: (fx, w, auth) => post(fx, `/api/v1/devices/${fx.shared[w].device}/rotate-secret`, auth),
  },
  {
    route: 'GET /api/v1/devices/:code/state-changes',
    access: 'read',
    ok: 200,
    out: 404,
    send: (fx, w, auth) => get(fx, `/api/v1/devices/${fx.shared[w].device}/state-changes`, auth),
  },
  {
    route: 'POST /api/v1/devices/:code/commands',
    access: 'devices:command',
    ok: 202,
    out: 404,
    send: (fx, w, auth) => post(fx, `/api/v1/devices/${fx.shared[w].device}/commands`, auth, { type: 'sync' }),
  },
  {
    route: 'GET /api/v1/devices/:code/commands',
    access: 'read',
    ok: 200,
    out: 404,
    send: (fx, w, auth) => get(fx, `/api/v1/devices/${fx.shared[w].device}/commands`, auth),
  },
  {
    route: 'GET /api/v1/devices/:code/commands/:id',
    access: 'read',
    ok: 200,
    out: 404,
    send: (fx, w, auth) => get(fx, `/api/v1/devices/${fx.shared[w].device}/commands/${fx.shared[w].command}`, auth),
  },

  // Media: editors write in their area; everyone reads their area's.
  {
    route: 'POST /api/v1/media',
    access: 'media:write',
    ok: 201,
    out: 400,
    send: (fx, w, auth) => {
      const upload = withAuth(fx.t.http().post('/api/v1/media'), auth).attach('file', aWav(300), 'a.wav');
      return w === 'in' ? upload : upload.field('areaCode', fx.areas.S);
    },
  },
  {
    route: 'POST /api/v1/media/streams',
    access: 'media:write',
    ok: 201,
    out: 400,
    send: (fx, w, auth) =>
      post(fx, '/api/v1/media/streams', auth, { title: 'VOV1', url: 'https://s.example.vn/vov1', ...(w === 'out' ? { areaCode: fx.areas.S } : {}) }),
  },
  {
    route: 'GET /api/v1/media',
    access: 'read',
    ok: 200,
    send: (fx, _w, auth) => get(fx, '/api/v1/media?pageSize=500', auth),
    lists: { key: 'id', of: (fx, w) => fx.shared[w].media },
  },
  { route: 'GET /api/v1/media/:id', access: 'read', ok: 200, out: 404, send: (fx, w, auth) => get(fx, `/api/v1/media/${fx.shared[w].media}`, auth) },
  {
    route: 'GET /api/v1/media/:id/content',
    access: 'read',
    ok: 200,
    out: 404,
    send: (fx, w, auth) => get(fx, `/api/v1/media/${fx.shared[w].media}/content`, auth),
  },

  // Bulletins: editors write and submit, approvers review, in their area.
  {
    route: 'POST /api/v1/bulletins',
    access: 'bulletins:write',
    ok: 201,
    out: 400,
    send: (fx, w, auth) => post(fx, '/api/v1/bulletins', auth, { title: 'Bản tin', category: 'news', mediaId: fx.shared[w].media }),
  },
  {
    route: 'GET /api/v1/bulletins',
    access: 'read',
    ok: 200,
    send: (fx, _w, auth) => get(fx, '/api/v1/bulletins?pageSize=500', auth),
    lists: { key: 'id', of: (fx, w) => fx.shared[w].bulletin },
  },
  { route: 'GET /api/v1/bulletins/:id', access: 'read', ok: 200, out: 404, send: (fx, w, auth) => get(fx, `/api/v1/bulletins/${fx.shared[w].bulletin}`, auth) },
  {
    route: 'PATCH /api/v1/bulletins/:id',
    access: 'bulletins:write',
    ok: 200,
    out: 404,
    send: async (fx, w, auth) => patch(fx, `/api/v1/bulletins/${await fx.bulletin(w, 'draft')}`, auth, { notes: 'sửa' }),
  },
  {
    route: 'POST /api/v1/bulletins/:id/submit',
    access: 'bulletins:write',
    ok: 200,
    out: 404,
    send: async (fx, w, auth) => post(fx, `/api/v1/bulletins/${await fx.bulletin(w, 'draft')}/submit`, auth),
  },
  {
    route: 'POST /api/v1/bulletins/:id/approve',
    access: 'bulletins:review',
    ok: 200,
    out: 404,
    send: async (fx, w, auth) => post(fx, `/api/v1/bulletins/${await fx.bulletin(w, 'submitted')}/approve`, auth),
  },
  {
    route: 'POST /api/v1/bulletins/:id/reject',
    access: 'bulletins:review',
    ok: 200,
    out: 404,
    send: async (fx, w, auth) => post(fx, `/api/v1/bulletins/${await fx.bulletin(w, 'submitted')}/reject`, auth, { reason: 'Sai tên xã' }),
  },

  // Broadcasts: editors schedule and cancel, approvers broadcast emergencies, to their area.
  {
    route: 'POST /api/v1/broadcasts',
    access: 'broadcasts:write',
    ok: 201,
    out: 400,
    send: (fx, w, auth) =>
      post(fx, '/api/v1/broadcasts', auth, {
        bulletinId: fx.shared.in.bulletin,
        targets: { areaCodes: [fx.commune(w)] },
        schedule: { kind: 'once', startAt: laterSlot() },
        priority: 'normal',
      }),
  },
  {
    route: 'POST /api/v1/broadcasts/emergency',
    access: 'broadcasts:emergency',
    ok: 201,
    out: 400,
    send: async (fx, w, auth) =>
      post(fx, '/api/v1/broadcasts/emergency', auth, { bulletinId: await fx.bulletin('in', 'submitted'), targets: { deviceCodes: [await fx.device(w)] } }),
  },
  {
    route: 'GET /api/v1/broadcasts',
    access: 'read',
    ok: 200,
    send: (fx, _w, auth) => get(fx, '/api/v1/broadcasts?pageSize=500', auth),
    lists: { key: 'id', of: (fx, w) => fx.shared[w].broadcast },
  },
  {
    route: 'GET /api/v1/broadcasts/:id',
    access: 'read',
    ok: 200,
    out: 404,
    send: (fx, w, auth) => get(fx, `/api/v1/broadcasts/${fx.shared[w].broadcast}`, auth),
  },
  {
    route: 'POST /api/v1/broadcasts/:id/cancel',
    access: 'broadcasts:write',
    ok: 200,
    out: 404,
    send: async (fx, w, auth) => post(fx, `/api/v1/broadcasts/${(await fx.broadcast(w)).id}/cancel`, auth),
  },

  // As-run log: only the deliveries of the caller's devices.
  {
    route: 'GET /api/v1/occurrences/:id/deliveries',
    access: 'read',
    ok: 200,
    out: 404,
    send: (fx, w, auth) => get(fx, `/api/v1/occurrences/${fx.shared[w].occurrence}/deliveries`, auth),
  },
  {
    route: 'GET /api/v1/deliveries',
    access: 'read',
    ok: 200,
    out: 404,
    send: (fx, w, auth) => get(fx, `/api/v1/deliveries?pageSize=500&${dayWindow()}${w === 'out' ? `&areaCode=${fx.areas.S}` : ''}`, auth),
    lists: { key: 'deviceCode', of: (fx, w) => fx.shared[w].device },
  },

  // Accounts.
  {
    route: 'POST /api/v1/auth/login',
    access: 'public',
    ok: 200,
    send: (fx, _w, auth) => post(fx, '/api/v1/auth/login', auth, { username: fx.users.operator.username, password: fx.users.operator.password }),
  },
  { route: 'POST /api/v1/auth/refresh', access: 'public', ok: 401, send: (fx, _w, auth) => post(fx, '/api/v1/auth/refresh', auth, { refreshToken: 'not-a-token' }) },
  {
    route: 'POST /api/v1/auth/logout',
    access: 'account',
    ok: 204,
    send: async (fx, _w, auth) => {
      const user = Object.values(fx.users).find((u) => u.auth === auth) ?? fx.users.operator;
      const login = await fx.t.http().post('/api/v1/auth/login').send({ username: user.username, password: user.password });
      return post(fx, '/api/v1/auth/logout', auth, { refreshToken: login.body.refreshToken });
    },
  },
  { route: 'GET /api/v1/auth/me', access: 'read', ok: 200, send: (fx, _w, auth) => get(fx, '/api/v1/auth/me', auth) },
  {
    route: 'POST /api/v1/auth/password',
    access: 'account',
    ok: 204,
    // A password change ends the user's sessions, so it is tried on a user of the same role made for it.
    send: async (fx, _w, auth) => {
      const role = (Object.entries(fx.users).find(([, u]) => u.auth === auth)?.[0] ?? 'operator') as UserRole;
      const user = await aUser(fx.t, role, role === 'admin' ? null : fx.areas.D);
      return post(fx, '/api/v1/auth/password', auth === null ? null : user.auth, { currentPassword: user.password, newPassword: `new-${user.password}` });
    },
  },
  {
    route: 'POST /api/v1/users',
    access: 'users:admin',
    ok: 201,
    send: (fx, w, auth) => post(fx, '/api/v1/users', auth, { username: code('u-'), password: 'a-long-password', role: 'operator', areaCode: fx.district(w) }),
  },
  { route: 'GET /api/v1/users', access: 'users:admin', ok: 200, send: (fx, _w, auth) => get(fx, '/api/v1/users', auth) },
  { route: 'GET /api/v1/users/:id', access: 'users:admin', ok: 200, send: (fx, _w, auth) => get(fx, `/api/v1/users/${fx.users.operator.id}`, auth) },
  {
    route: 'PATCH /api/v1/users/:id',
    access: 'users:admin',
    ok: 200,
    send: async (fx, _w, auth) => patch(fx, `/api/v1/users/${(await aUser(fx.t, 'editor', fx.areas.D)).id}`, auth, { role: 'approver' }),
  },
  {
    route: 'DELETE /api/v1/users/:id',
    access: 'users:admin',
    ok: 204,
    send: async (fx, _w, auth) => del(fx, `/api/v1/users/${(await aUser(fx.t, 'editor', fx.areas.D)).id}`, auth),
  },

  // Alarms and webhooks.
  {
    // Like GET /api/v1/devices, an area filter outside the scope is answered as an unknown area: 400.
    route: 'GET /api/v1/alarms',
    access: 'read',
    ok: 200,
    out: 400,
    send: (fx, w, auth) => get(fx, `/api/v1/alarms?state=all&areaCode=${fx.district(w)}`, auth),
  },
  {
    // No alarm is raised here (it takes a speaker offline for minutes): the role gate is what this row checks.
    route: 'POST /api/v1/alarms/:id/acknowledge',
    access: 'alarms:acknowledge',
    ok: 404,
    send: (fx, _w, auth) => post(fx, `/api/v1/alarms/${randomUUID()}/acknowledge`, auth, { note: 'đã gọi xã' }),
  },
  {
    route: 'GET /api/v1/alarm-thresholds/:areaCode',
    access: 'read',
    ok: 200,
    out: 404,
    send: (fx, w, auth) => get(fx, `/api/v1/alarm-thresholds/${fx.district(w)}`, auth),
  },
  {
    route: 'PUT /api/v1/alarm-thresholds/:areaCode',
    access: 'fleet:admin',
    ok: 200,
    send: (fx, w, auth) => put(fx, `/api/v1/alarm-thresholds/${fx.district(w)}`, auth, { offlineAfterS: 600 }),
  },
  ...webhookRows(),

  // Reports.
  {
    route: 'GET /api/v1/reports/uptime',
    access: 'read',
    ok: 200,
    out: 404,
    send: (fx, w, auth) => get(fx, `/api/v1/reports/uptime?areaCode=${fx.district(w)}&${dayWindow()}`, auth),
  },
  {
    route: 'GET /api/v1/reports/broadcasts',
    access: 'read',
    ok: 200,
    out: 404,
    send: (fx, w, auth) => get(fx, `/api/v1/reports/broadcasts?areaCode=${fx.district(w)}&${dayWindow()}`, auth),
  },

  // Audit log: admins only.
  { route: 'GET /api/v1/audit', access: 'audit:read', ok: 200, send: (fx, _w, auth) => get(fx, '/api/v1/audit?pageSize=5', auth) },

  // Live events: a stream, so only its status is read.
  { route: 'GET /api/v1/events', access: 'read', ok: 200, send: (fx, _w, auth) => openStream(fx, '/api/v1/events', auth) },

  // Public: health, metrics, API docs, the dashboard's static files.
  publicGet('GET /health', '/health'),
  publicGet('GET /health/ready', '/health/ready'),
  publicGet('GET /metrics', '/metrics'),
  publicGet('GET /api/docs', '/api/docs'),
  publicGet('GET /api/docs/', '/api/docs/'),
  publicGet('GET /api/docs/index.html', '/api/docs/index.html'),
  publicGet('GET /api/docs/swagger-ui-init.js', '/api/docs/swagger-ui-init.js'),
  publicGet('GET /api/docs/docs/swagger-ui-init.js', '/api/docs/docs/swagger-ui-init.js'),
  // @nestjs/swagger registers it, but the installed swagger-ui-dist has no such file: public, and 404.
  publicGet('GET /api/docs/LICENSE', '/api/docs/LICENSE', 404),
  publicGet('GET /api/docs-json', '/api/docs-json'),
  publicGet('GET /api/docs-yaml', '/api/docs-yaml'),
  publicGet('GET /', '/'),
  publicGet('GET /dashboard/permissions.json', '/dashboard/permissions.json'),
  publicGet('GET /dashboard/*path', '/dashboard/no-such-file.js', 404),
];

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

interface AuditRow {
  username: string | null;
  status_code: number;
  outcome: string;
  action: string;
}

/** The newest audit entry of `row`'s route: the rows run one at a time, so it is the call just made. */
async function lastAuditOf(fx: Fixtures, row: Row): Promise<AuditRow | undefined> {
  const [method, path] = row.route.split(' ');
  const [entry] = (await fx.t.app
    .get(DataSource)
    .query(`SELECT username, status_code, outcome, action FROM audit_log WHERE method = $1 AND route = $2 ORDER BY id DESC LIMIT 1`, [method, path])) as AuditRow[];
  return entry;
}

/** Checks the audit entry a mutating call must have left; `who` is the caller (null: no token). */
async function expectAudited(fx: Fixtures, row: Row, answer: Answer, who: TestUser | null): Promise<void> {
  if (!MUTATING.has(row.route.split(' ')[0])) return;
  const entry = await lastAuditOf(fx, row);
  const outcome = answer.status < 400 ? 'ok' : [401, 403, 429].includes(answer.status) ? 'denied' : 'failed';
  expect({ route: row.route, status: entry?.status_code, outcome: entry?.outcome }).toEqual({ route: row.route, status: answer.status, outcome });
  // A password change is made by a user made for it, and a login names the user it tried.
  if (row.route.endsWith('/auth/password')) return;
  if (row.route.endsWith('/auth/login')) expect(entry?.username).toBe(fx.users.operator.username);
  else if (row.access !== 'public') expect(entry?.username).toBe(who?.username ?? null);
}

function publicGet(route: string, path: string, ok = 200): Row {
  return { route, access: 'public', ok, send: (fx, _w, auth) => get(fx, path, auth) };
}

/** The status (and error body) of an event stream, which is then closed: it never ends by itself. */
async function openStream(fx: Fixtures, path: string, auth: string | null): Promise<Answer> {
  const abort = new AbortController();
  const res = await fetch(`${fx.t.apiUrl}${path}`, { headers: auth ? { Authorization: auth } : {}, signal: abort.signal });
  const body: unknown = res.headers.get('content-type')?.includes('json') ? await res.json() : undefined;
  abort.abort();
  return { status: res.status, body };
}

function webhookRows(): Row[] {
  const aWebhook = async (fx: Fixtures) => {
    const res = await post(fx, '/api/v1/webhooks', fx.users.admin.auth, { url: 'https://hooks.example.vn/loa' });
    if (res.status !== 201) throw new Error(`webhook: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.id as string;
  };
  return [
    { route: 'POST /api/v1/webhooks', access: 'webhooks:admin', ok: 201, send: (fx, _w, auth) => post(fx, '/api/v1/webhooks', auth, { url: 'https://hooks.example.vn/loa' }) },
    { route: 'GET /api/v1/webhooks', access: 'webhooks:admin', ok: 200, send: (fx, _w, auth) => get(fx, '/api/v1/webhooks', auth) },
    { route: 'GET /api/v1/webhooks/:id', access: 'webhooks:admin', ok: 200, send: async (fx, _w, auth) => get(fx, `/api/v1/webhooks/${await aWebhook(fx)}`, auth) },
    {
      route: 'PATCH /api/v1/webhooks/:id',
      access: 'webhooks:admin',
      ok: 200,
      send: async (fx, _w, auth) => patch(fx, `/api/v1/webhooks/${await aWebhook(fx)}`, auth, { enabled: false }),
    },
    { route: 'DELETE /api/v1/webhooks/:id', access: 'webhooks:admin', ok: 204, send: async (fx, _w, auth) => del(fx, `/api/v1/webhooks/${await aWebhook(fx)}`, auth) },
    {
      route: 'GET /api/v1/webhooks/:id/deliveries',
      access: 'webhooks:admin',
      ok: 200,
      send: async (fx, _w, auth) => get(fx, `/api/v1/webhooks/${await aWebhook(fx)}/deliveries`, auth),
    },
  ];
}

/** `METHOD /path` of every route the app's Express router holds. */
function registeredRoutes(t: TestApp): string[] {
  const express = t.app.getHttpAdapter().getInstance() as { router?: RouterLike; _router?: RouterLike };
  const stack = (express.router ?? express._router)?.stack ?? [];
  return stack.flatMap((layer) =>
    layer.route ? Object.keys(layer.route.methods).filter((m) => m !== '_all').map((m) => `${m.toUpperCase()} ${layer.route!.path}`) : [],
  );
}

interface RouterLike {
  stack: { route?: { path: string; methods: Record<string, boolean> } }[];
}

describe('Authorization: every route × every role × in and out of the area scope', () => {
  let fx: Fixtures;

  beforeAll(async () => {
    const t = await startTestApp();
    const P = (await anArea(t)).code;
    const D = (await anArea(t, { parentCode: P })).code;
    const C = (await anArea(t, { parentCode: D })).code;
    const S = (await anArea(t, { parentCode: P })).code;
    const SC = (await anArea(t, { parentCode: S })).code;
    const admin: TestUser = { id: '', username: ADMIN.username, password: ADMIN.password, role: 'admin', areaCode: null, auth: t.auth };
    const users = {
      admin,
      editor: await aUser(t, 'editor', D),
      approver: await aUser(t, 'approver', D),
      operator: await aUser(t, 'operator', D),
    };
    const adminPost = async (path: string, body: object, status: number) => {
      const res = await t.http().post(path).set('Authorization', t.auth).send(body);
      if (res.status !== status) throw new Error(`POST ${path}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    };
    const areaOf = (w: Where) => (w === 'in' ? D : S);
    const partial = {
      t,
      areas: { P, D, C, S, SC },
      users,
      commune: (w: Where) => (w === 'in' ? C : SC),
      district: areaOf,
      async device(w: Where) {
        return (await adminPost('/api/v1/devices', { code: code('spk-'), name: 'Loa', areaCode: w === 'in' ? C : SC }, 201)).code as string;
      },
      async media(w: Where) {
        const res = await t.http().post('/api/v1/media').set('Authorization', t.auth).attach('file', aWav(300), 'a.wav').field('areaCode', areaOf(w));
        if (res.status !== 201) throw new Error(`media: ${res.status} ${JSON.stringify(res.body)}`);
        return res.body.id as string;
      },
      async bulletin(w: Where, status: 'draft' | 'submitted' | 'approved' = 'approved') {
        const mediaId = await this.media(w);
        const { id } = await adminPost('/api/v1/bulletins', { title: 'Bản tin', category: 'news', mediaId, areaCode: areaOf(w) }, 201);
        if (status !== 'draft') await adminPost(`/api/v1/bulletins/${id}/submit`, {}, 200);
        if (status === 'approved') await adminPost(`/api/v1/bulletins/${id}/approve`, {}, 200);
        return id as string;
      },
      async broadcast(w: Where) {
        const bulletinId = await this.bulletin(w);
        const body = await adminPost(
          '/api/v1/broadcasts',
          { bulletinId, targets: { areaCodes: [w === 'in' ? C : SC] }, schedule: { kind: 'once', startAt: laterSlot() }, priority: 'normal' },
          201,
        );
        return { id: body.id as string, occurrence: body.occurrences[0].id as string };
      },
    };
    const sharedOf = async (w: Where) => {
      const device = await partial.device(w);
      const broadcast = await partial.broadcast(w);
      const command = await adminPost(`/api/v1/devices/${device}/commands`, { type: 'sync' }, 202);
      return { device, media: await partial.media(w), bulletin: await partial.bulletin(w), broadcast: broadcast.id, occurrence: broadcast.occurrence, command: command.id };
    };
    fx = { ...partial, shared: { in: await sharedOf('in'), out: await sharedOf('out') } };
  });
  afterAll(async () => {
    await fx?.t.close();
  });

  it('has a row for every route the app serves', () => {
    const rows = new Set(ROWS.map((r) => r.route));

    const missing = registeredRoutes(fx.t).filter((route) => !rows.has(route));

    expect(missing).toEqual([]);
  });

  it('names each route once, and only routes the app serves', () => {
    const routes = ROWS.map((r) => r.route);
    const registered = new Set(registeredRoutes(fx.t));

    expect(routes.filter((r, i) => routes.indexOf(r) !== i)).toEqual([]);
    expect(routes.filter((r) => !registered.has(r))).toEqual([]);
  });

  describe.each(ROWS.map((row) => [row.route, row] as const))('%s', (_route, row) => {
    const permitted = (role: UserRole) => row.access === 'public' || roleMay(role, row.access);

    it.each(ROLES.map((role) => [role, permitted(role) ? `answers ${row.ok}` : 'refuses with 403'] as const))('%s: %s', async (role) => {
      const user = fx.users[role];

      const inside = await row.send(fx, 'in', user.auth);

      await expectAudited(fx, row, inside, user);
      if (!permitted(role)) {
        expect([inside.status, inside.body?.error]).toEqual([403, 'forbidden']);
        return;
      }
      expect({ status: inside.status, body: inside.body }).toMatchObject({ status: row.ok });
      if (row.lists && role !== 'admin') {
        const shown = (inside.body.items as Record<string, unknown>[]).map((item) => item[row.lists!.key]);
        expect(shown).toContain(row.lists.of(fx, 'in'));
        expect(shown).not.toContain(row.lists.of(fx, 'out'));
      }
      if (row.out === undefined) return;
      const outside = await row.send(fx, 'out', user.auth);
      expect({ status: outside.status, body: outside.body }).toMatchObject({ status: role === 'admin' ? row.ok : row.out });
    });

    if (row.access !== 'public') {
      it('refuses a caller without a token with 401', async () => {
        const res = await row.send(fx, 'in', null);

        expect(res.status).toBe(401);
        await expectAudited(fx, row, res, null);
      });
    }
  });

  it('shows a district user the breadcrumbs above its own area, but not the areas next to it', async () => {
    const auth = fx.users.operator.auth;

    const own = await get(fx, `/api/v1/areas/${fx.areas.D}`, auth).expect(200);
    const parent = await get(fx, `/api/v1/areas/${fx.areas.P}`, auth);

    expect(own.body.ancestors.map((a: { code: string }) => a.code)).toEqual([fx.areas.P]);
    expect(parent.status).toBe(404);
  });

  it('answers an object of another district exactly as a missing one', async () => {
    const auth = fx.users.operator.auth;
    const missing = randomUUID();

    const [outside, absent] = await Promise.all([
      get(fx, `/api/v1/bulletins/${fx.shared.out.bulletin}`, auth),
      get(fx, `/api/v1/bulletins/${missing}`, auth),
    ]);

    expect(outside.status).toBe(absent.status);
    expect(outside.body).toEqual({ ...absent.body, message: absent.body.message.replace(missing, fx.shared.out.bulletin) });
  });

  it('refuses a broadcast of another district’s bulletin with the 404 of a missing one', async () => {
    const res = await post(fx, '/api/v1/broadcasts', fx.users.editor.auth, {
      bulletinId: fx.shared.out.bulletin,
      targets: { areaCodes: [fx.areas.C] },
      schedule: { kind: 'once', startAt: laterSlot() },
      priority: 'normal',
    });

    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: 'not-found', message: `bulletin ${fx.shared.out.bulletin} not found` });
  });

  it('files an editor’s media and bulletins under its district, and a broadcast under the deepest area of its targets', async () => {
    const auth = fx.users.editor.auth;

    const media = await withAuth(fx.t.http().post('/api/v1/media'), auth).attach('file', aWav(300), 'a.wav').expect(201);
    const bulletin = await post(fx, '/api/v1/bulletins', auth, { title: 'Bản tin', category: 'news', mediaId: media.body.id }).expect(201);
    const national = await post(fx, '/api/v1/media/streams', auth, { title: 'VOV1', url: 'https://s.example.vn/vov1', areaCode: null });
    const broadcast = await post(fx, '/api/v1/broadcasts', auth, {
      bulletinId: fx.shared.in.bulletin,
      targets: { deviceCodes: [fx.shared.in.device] },
      schedule: { kind: 'once', startAt: laterSlot() },
      priority: 'normal',
    }).expect(201);

    expect(media.body.areaCode).toBe(fx.areas.D);
    expect(bulletin.body.areaCode).toBe(fx.areas.D);
    expect(national.status).toBe(400);
    expect(broadcast.body.areaCode).toBe(fx.areas.C);
  });
});
