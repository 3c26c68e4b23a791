import { randomBytes } from 'node:crypto';
import { anAreaTree } from './support/factories.js';
import { startTestApp, ADMIN, type TestApp } from './support/test-app.js';
import { aUser } from './support/users.js';

const aUsername = (role = 'user') => `${role}.${randomBytes(4).toString('hex')}`;
const PASSWORD = 'correct-horse-battery';

describe('users', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  const as = (auth: string) => ({
    get: (path: string) => t.http().get(`/api/v1/users${path}`).set('Authorization', auth),
    post: (body: object) => t.http().post('/api/v1/users').set('Authorization', auth).send(body),
    patch: (id: string, body: object) => t.http().patch(`/api/v1/users/${id}`).set('Authorization', auth).send(body),
    delete: (id: string) => t.http().delete(`/api/v1/users/${id}`).set('Authorization', auth),
  });
  const admin = () => as(t.auth);
  const login = (username: string, password: string) => t.http().post('/api/v1/auth/login').send({ username, password });
  const me = (auth: string) => t.http().get('/api/v1/auth/me').set('Authorization', auth);

  describe('creating', () => {
    it('creates an editor of a commune who can then log in, and never shows a password hash', async () => {
      const tree = await anAreaTree(t);
      const username = aUsername('editor');

      const created = await admin().post({ username, password: PASSWORD, role: 'editor', areaCode: tree.commune }).expect(201);
      const session = await login(username, PASSWORD).expect(200);

      expect(created.body).toEqual({
        id: expect.any(String),
        username,
        role: 'editor',
        areaCode: tree.commune,
        areaName: `Test commune ${tree.commune}`,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
      expect(session.body.user).toMatchObject({ id: created.body.id, role: 'editor', areaCode: tree.commune });
      const read = await admin().get(`/${created.body.id}`).expect(200);
      expect(read.body).toEqual(created.body);
      expect(JSON.stringify(read.body)).not.toMatch(/scrypt|password/i);
    });

    it('creates an admin with no area', async () => {
      const res = await admin().post({ username: aUsername('admin'), password: PASSWORD, role: 'admin', areaCode: null }).expect(201);

      expect(res.body).toMatchObject({ role: 'admin', areaCode: null, areaName: null });
    });

    it('refuses invalid bodies', async () => {
      const tree = await anAreaTree(t);
      const valid = { username: aUsername(), password: PASSWORD, role: 'operator', areaCode: tree.district };

      const cases: [object, RegExp][] = [
        [{ ...valid, username: 'Upper.Case' }, /username/],
        [{ ...valid, username: 'ab' }, /username/],
        [{ ...valid, password: 'short' }, /password/],
        [{ ...valid, role: 'superuser' }, /role/],
        [{ ...valid, areaCode: undefined }, /areaCode is required/],
        [{ ...valid, role: 'admin' }, /admin .* has no area/],
        [{ ...valid, passwordHash: 'x' }, /passwordHash/],
      ];
      for (const [body, message] of cases) {
        const res = await admin().post(body).expect(400);
        expect(res.body).toMatchObject({ error: 'validation' });
        expect(JSON.stringify(res.body.message)).toMatch(message);
      }
    });

    it('refuses an area that does not exist', async () => {
      const res = await admin().post({ username: aUsername(), password: PASSWORD, role: 'approver', areaCode: 'nowhere' }).expect(400);

      expect(res.body).toEqual({ error: 'unknown-area', message: 'area nowhere does not exist' });
    });

    it('refuses a username that is taken', async () => {
      const tree = await anAreaTree(t);
      const body = { username: aUsername(), password: PASSWORD, role: 'operator', areaCode: tree.commune };
      await admin().post(body).expect(201);

      const res = await admin().post(body).expect(409);

      expect(res.body).toMatchObject({ error: 'username-taken' });
    });
  });

  describe('listing', () => {
    it('filters by role, by area subtree and by part of the username, a page at a time', async () => {
      const tree = await anAreaTree(t);
      const tag = randomBytes(3).toString('hex');
      const made = [
        { username: `op-${tag}-1`, role: 'operator', areaCode: tree.commune },
        { username: `op-${tag}-2`, role: 'operator', areaCode: tree.district },
        { username: `ed-${tag}-3`, role: 'editor', areaCode: tree.province },
      ];
      for (const u of made) await admin().post({ ...u, password: PASSWORD }).expect(201);

      const operatorsInDistrict = await admin().get(`?role=operator&areaCode=${tree.district}`).expect(200);
      const byName = await admin().get(`?q=${tag}&pageSize=2&page=2`).expect(200);
      const admins = await admin().get('?role=admin').expect(200);

      expect(operatorsInDistrict.body.items.map((u: { username: string }) => u.username)).toEqual([`op-${tag}-1`, `op-${tag}-2`]);
      expect(byName.body).toMatchObject({ total: 3, page: 2, pageSize: 2, items: [{ username: `op-${tag}-2` }] });
      expect(admins.body.items.map((u: { username: string }) => u.username)).toContain(ADMIN.username);
      await admin().get('?role=king').expect(400);
      await admin().get('?areaCode=nowhere').expect(400);
    });

    it('answers 404 for a user that does not exist and 400 for an id that is not one', async () => {
      const missing = await admin().get('/00000000-0000-4000-8000-000000000000').expect(404);

      expect(missing.body).toMatchObject({ error: 'not-found' });
      await admin().get('/not-a-uuid').expect(400);
    });
  });

  describe('changing', () => {
    it('moves a user to another area and role, ending their logins', async () => {
      const a = await anAreaTree(t);
      const b = await anAreaTree(t);
      const user = await aUser(t, 'operator', a.commune);
      const session = await login(user.username, user.password).expect(200);

      const res = await admin().patch(user.id, { role: 'approver', areaCode: b.district }).expect(200);

      expect(res.body).toMatchObject({ id: user.id, role: 'approver', areaCode: b.district });
      await me(user.auth).expect(401);
      await t.http().post('/api/v1/auth/refresh').send({ refreshToken: session.body.refreshToken }).expect(401);
      const relogin = await login(user.username, user.password).expect(200);
      expect(relogin.body.user).toMatchObject({ role: 'approver', areaCode: b.district });
    });

    it('sets a new password', async () => {
      const tree = await anAreaTree(t);
      const user = await aUser(t, 'editor', tree.commune);

      await admin().patch(user.id, { password: 'a-new-password-123' }).expect(200);

      await me(user.auth).expect(401);
      await login(user.username, user.password).expect(401);
      await login(user.username, 'a-new-password-123').expect(200);
    });

    it('leaves logins alone when nothing changes', async () => {
      const tree = await anAreaTree(t);
      const user = await aUser(t, 'editor', tree.commune);

      await admin().patch(user.id, { role: 'editor', areaCode: tree.commune }).expect(200);

      await me(user.auth).expect(200);
    });

    it('clears the area of a user promoted to admin, and asks for one when demoting', async () => {
      const tree = await anAreaTree(t);
      const user = await aUser(t, 'editor', tree.commune);

      const promoted = await admin().patch(user.id, { role: 'admin' }).expect(200);
      const noArea = await admin().patch(user.id, { role: 'operator' }).expect(400);
      const withAreaAsAdmin = await admin().patch(user.id, { areaCode: tree.commune }).expect(400);
      const badArea = await admin().patch(user.id, { role: 'operator', areaCode: 'nowhere' }).expect(400);
      const demoted = await admin().patch(user.id, { role: 'operator', areaCode: tree.district }).expect(200);

      expect(promoted.body).toMatchObject({ role: 'admin', areaCode: null });
      expect(noArea.body).toMatchObject({ error: 'validation' });
      expect(withAreaAsAdmin.body).toMatchObject({ error: 'validation' });
      expect(badArea.body).toMatchObject({ error: 'unknown-area' });
      expect(demoted.body).toMatchObject({ role: 'operator', areaCode: tree.district });
    });

    it('refuses a username change or a short password', async () => {
      const tree = await anAreaTree(t);
      const user = await aUser(t, 'editor', tree.commune);

      await admin().patch(user.id, { username: 'renamed' }).expect(400);
      await admin().patch(user.id, { password: 'short' }).expect(400);
      await admin().patch('00000000-0000-4000-8000-000000000000', { role: 'editor', areaCode: tree.commune }).expect(404);
    });
  });

  describe('deleting', () => {
    it("deletes a user, whose token then stops working", async () => {
      const tree = await anAreaTree(t);
      const user = await aUser(t, 'operator', tree.commune);
      await me(user.auth).expect(200);

      await admin().delete(user.id).expect(204);

      const res = await me(user.auth).expect(401);
      expect(res.body).toMatchObject({ message: 'invalid or expired token' });
      await admin().get(`/${user.id}`).expect(404);
      await login(user.username, user.password).expect(401);
      await admin().delete(user.id).expect(404);
    });
  });

  describe('permissions', () => {
    it('is for admins only', async () => {
      const tree = await anAreaTree(t);
      const target = await aUser(t, 'operator', tree.commune);

      for (const role of ['editor', 'approver', 'operator'] as const) {
        const user = await aUser(t, role, tree.province);
        await as(user.auth).get('').expect(403);
        await as(user.auth).get(`/${target.id}`).expect(403);
        await as(user.auth).post({ username: aUsername(), password: PASSWORD, role: 'admin', areaCode: null }).expect(403);
        await as(user.auth).patch(user.id, { role: 'admin', areaCode: null }).expect(403);
        await as(user.auth).delete(target.id).expect(403);
      }
      await t.http().get('/api/v1/users').expect(401);
    });
  });
});

describe('the last admin', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  const users = (auth: string) => ({
    patch: (id: string, body: object) => t.http().patch(`/api/v1/users/${id}`).set('Authorization', auth).send(body),
    delete: (id: string) => t.http().delete(`/api/v1/users/${id}`).set('Authorization', auth),
  });
  const idOf = async (auth: string) => (await t.http().get('/api/v1/auth/me').set('Authorization', auth).expect(200)).body.id as string;

  it('can neither delete themselves nor be demoted while nobody else is admin', async () => {
    const tree = await anAreaTree(t);
    const firstId = await idOf(t.auth);

    const selfDelete = await users(t.auth).delete(firstId).expect(409);
    const demote = await users(t.auth).patch(firstId, { role: 'editor', areaCode: tree.commune }).expect(409);

    expect(selfDelete.body).toMatchObject({ error: 'self-delete' });
    expect(demote.body).toMatchObject({ error: 'last-admin' });
    await t.http().get('/api/v1/auth/me').set('Authorization', t.auth).expect(200);
  });

  it('can be demoted by a second admin, who then is the last one', async () => {
    const tree = await anAreaTree(t);
    const firstId = await idOf(t.auth);
    const second = await aUser(t, 'admin', null);

    await users(second.auth).patch(firstId, { role: 'editor', areaCode: tree.commune }).expect(200);

    const firstNow = await t.http().get('/api/v1/auth/me').set('Authorization', t.auth).expect(401);
    expect(firstNow.body).toMatchObject({ message: 'invalid or expired token' });
    const demoteSelf = await users(second.auth).patch(second.id, { role: 'operator', areaCode: tree.commune }).expect(409);
    expect(demoteSelf.body).toMatchObject({ error: 'last-admin' });
    await users(second.auth).delete(firstId).expect(204);
  });
});
