import { JwtService } from '@nestjs/jwt';
import { anAreaTree } from './support/factories.js';
import { startTestApp, ADMIN, type TestApp } from './support/test-app.js';
import { aUser, type TestUser } from './support/users.js';

describe('auth', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ JWT_TTL_S: '60' });
  });
  afterAll(() => t.close());

  const login = (username: string, password: string) => t.http().post('/api/v1/auth/login').send({ username, password });
  const refresh = (refreshToken: string) => t.http().post('/api/v1/auth/refresh').send({ refreshToken });
  const me = (auth: string) => t.http().get('/api/v1/auth/me').set('Authorization', auth);

  async function anEditor(): Promise<TestUser & { areaName: string }> {
    const tree = await anAreaTree(t);
    const user = await aUser(t, 'editor', tree.commune);
    return { ...user, areaName: `Test commune ${tree.commune}` };
  }

  describe('logging in', () => {
    it('answers with an access token, a refresh token and who logged in', async () => {
      const editor = await anEditor();

      const res = await login(editor.username, editor.password).expect(200);

      expect(res.body).toEqual({
        accessToken: expect.any(String),
        tokenType: 'Bearer',
        expiresIn: 60,
        refreshToken: expect.any(String),
        refreshExpiresIn: t.config.REFRESH_TTL_S,
        user: { id: editor.id, username: editor.username, role: 'editor', areaCode: editor.areaCode, areaName: editor.areaName },
      });
      const who = await me(`Bearer ${res.body.accessToken}`).expect(200);
      expect(who.body).toEqual(res.body.user);
    });

    it('refuses a wrong password and an unknown username with the same answer', async () => {
      const editor = await anEditor();

      const wrongPassword = await login(editor.username, 'not-the-password').expect(401);
      const unknownUser = await login('nobody-by-this-name', 'not-the-password').expect(401);

      expect(wrongPassword.body).toEqual({ error: 'invalid-credentials', message: 'wrong username or password' });
      expect(unknownUser.body).toEqual(wrongPassword.body);
    });

    it('shows an admin as bound to no area', async () => {
      const res = await me(t.auth).expect(200);

      expect(res.body).toEqual({ id: expect.any(String), username: ADMIN.username, role: 'admin', areaCode: null, areaName: null });
    });
  });

  describe('access tokens', () => {
    it('refuses a token past its expiry', async () => {
      const editor = await anEditor();
      const jwt = t.app.get(JwtService);
      const issuedTwoMinutesAgo = Math.floor(Date.now() / 1000) - 120;

      const expired = await jwt.signAsync({ sub: editor.id, tv: 0, iat: issuedTwoMinutesAgo });
      const fresh = await jwt.signAsync({ sub: editor.id, tv: 0 });

      const res = await me(`Bearer ${expired}`).expect(401);
      expect(res.body).toMatchObject({ message: 'invalid or expired token' });
      await me(`Bearer ${fresh}`).expect(200);
    });

    it('refuses a token that names no user or an older token version', async () => {
      const editor = await anEditor();
      const jwt = t.app.get(JwtService);

      const noVersion = await jwt.signAsync({ sub: editor.id });
      const oldVersion = await jwt.signAsync({ sub: editor.id, tv: -1 });
      const nobody = await jwt.signAsync({ sub: '00000000-0000-4000-8000-000000000000', tv: 0 });

      await me(`Bearer ${noVersion}`).expect(401);
      await me(`Bearer ${oldVersion}`).expect(401);
      await me(`Bearer ${nobody}`).expect(401);
    });
  });

  describe('refreshing', () => {
    it('exchanges a refresh token for a new pair, once', async () => {
      const editor = await anEditor();
      const first = await login(editor.username, editor.password).expect(200);

      const second = await refresh(first.body.refreshToken).expect(200);

      expect(second.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 60, user: { id: editor.id, role: 'editor' } });
      expect(second.body.refreshToken).not.toEqual(first.body.refreshToken);
      await me(`Bearer ${second.body.accessToken}`).expect(200);
      await refresh(second.body.refreshToken).expect(200);
    });

    it('ends the whole login when a replaced refresh token comes back, and only that login', async () => {
      const editor = await anEditor();
      const stolen = await login(editor.username, editor.password).expect(200);
      const otherDevice = await login(editor.username, editor.password).expect(200);
      const rotated = await refresh(stolen.body.refreshToken).expect(200);

      const reuse = await refresh(stolen.body.refreshToken).expect(401);

      expect(reuse.body).toMatchObject({ error: 'invalid-refresh-token' });
      await refresh(rotated.body.refreshToken).expect(401);
      await refresh(otherDevice.body.refreshToken).expect(200);
    });

    it('refuses unknown refresh tokens', async () => {
      const res = await refresh('not-a-refresh-token').expect(401);

      expect(res.body).toMatchObject({ error: 'invalid-refresh-token' });
      await t.http().post('/api/v1/auth/refresh').send({}).expect(400);
    });
  });

  describe('logging out', () => {
    it('ends the login of the refresh token', async () => {
      const editor = await anEditor();
      const session = await login(editor.username, editor.password).expect(200);
      const other = await login(editor.username, editor.password).expect(200);

      await t.http().post('/api/v1/auth/logout').set('Authorization', `Bearer ${session.body.accessToken}`).send({ refreshToken: session.body.refreshToken }).expect(204);

      await refresh(session.body.refreshToken).expect(401);
      await refresh(other.body.refreshToken).expect(200);
    });

    it("cannot end someone else's login", async () => {
      const editor = await anEditor();
      const victim = await anEditor();
      const victimSession = await login(victim.username, victim.password).expect(200);

      await t.http().post('/api/v1/auth/logout').set('Authorization', editor.auth).send({ refreshToken: victimSession.body.refreshToken }).expect(204);

      await refresh(victimSession.body.refreshToken).expect(200);
    });
  });

  describe('changing the password', () => {
    const changePassword = (auth: string, body: object) => t.http().post('/api/v1/auth/password').set('Authorization', auth).send(body);

    it('ends every existing login and accepts only the new password', async () => {
      const editor = await anEditor();
      const session = await login(editor.username, editor.password).expect(200);
      const newPassword = 'a-much-better-passphrase';

      await changePassword(editor.auth, { currentPassword: editor.password, newPassword }).expect(204);

      await me(editor.auth).expect(401);
      await me(`Bearer ${session.body.accessToken}`).expect(401);
      await refresh(session.body.refreshToken).expect(401);
      await login(editor.username, editor.password).expect(401);
      const relogin = await login(editor.username, newPassword).expect(200);
      await me(`Bearer ${relogin.body.accessToken}`).expect(200);
    });

    it('refuses a wrong current password or a short new one, and changes nothing', async () => {
      const editor = await anEditor();

      const wrong = await changePassword(editor.auth, { currentPassword: 'not-my-password', newPassword: 'long-enough-password' }).expect(400);
      const short = await changePassword(editor.auth, { currentPassword: editor.password, newPassword: 'short' }).expect(400);
      const same = await changePassword(editor.auth, { currentPassword: editor.password, newPassword: editor.password }).expect(400);

      expect(wrong.body).toMatchObject({ error: 'wrong-password' });
      expect(short.body).toMatchObject({ error: 'validation', message: [expect.stringContaining('newPassword')] });
      expect(same.body).toMatchObject({ error: 'validation' });
      await me(editor.auth).expect(200);
      await login(editor.username, editor.password).expect(200);
    });

    it('needs a login', async () => {
      await t.http().post('/api/v1/auth/password').send({ currentPassword: 'x', newPassword: 'long-enough-password' }).expect(401);
    });
  });
});

describe('login throttling', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ LOGIN_MAX_FAILURES_PER_USER: '3', LOGIN_MAX_FAILURES_PER_IP: '5', LOGIN_THROTTLE_WINDOW_S: '600', TRUST_PROXY: 'true' });
  });
  afterAll(() => t.close());

  let nextIp = 1;
  /** A client address of its own, so one story's failures do not count against another's. */
  const anIp = () => `198.51.100.${nextIp++}`;
  const login = (ip: string, username: string, password: string) =>
    t.http().post('/api/v1/auth/login').set('X-Forwarded-For', ip).send({ username, password });

  it('blocks a username after its failures, even with the right password and from elsewhere', async () => {
    const editor = await aUser(t, 'editor', (await anAreaTree(t)).commune);
    const ip = anIp();

    for (let i = 0; i < 3; i++) await login(ip, editor.username, 'wrong-password').expect(401);
    const blocked = await login(ip, editor.username, editor.password).expect(429);
    const elsewhere = await login(anIp(), editor.username, editor.password).expect(429);

    expect(blocked.body).toEqual({ error: 'too-many-attempts', message: expect.any(String), retryAfterS: expect.any(Number) });
    expect(blocked.body.retryAfterS).toBeGreaterThan(0);
    expect(blocked.body.retryAfterS).toBeLessThanOrEqual(600);
    expect(blocked.headers['retry-after']).toBe(String(blocked.body.retryAfterS));
    expect(elsewhere.body.error).toBe('too-many-attempts');
  });

  it('blocks an unknown username the same way, whatever its letter case', async () => {
    const ip = anIp();

    const answers = [];
    for (const name of ['ghost-user', 'Ghost-User', 'GHOST-USER']) answers.push((await login(ip, name, 'wrong-password').expect(401)).body);
    const blocked = await login(ip, 'ghost-user', 'wrong-password').expect(429);

    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(blocked.body).toMatchObject({ error: 'too-many-attempts' });
    expect(blocked.headers['retry-after']).toBe(String(blocked.body.retryAfterS));
  });

  it('forgets a username’s failures once it logs in', async () => {
    const editor = await aUser(t, 'editor', (await anAreaTree(t)).commune);
    const ip = anIp();

    for (let round = 0; round < 2; round++) {
      await login(ip, editor.username, 'wrong-password').expect(401);
      await login(ip, editor.username, 'wrong-password').expect(401);
      await login(ip, editor.username, editor.password).expect(200);
    }
  });

  it('blocks a client address after its failures across usernames, and only that address', async () => {
    const editor = await aUser(t, 'editor', (await anAreaTree(t)).commune);
    const ip = anIp();

    for (let i = 0; i < 5; i++) await login(ip, `guess-${i}`, 'wrong-password').expect(401);
    const blocked = await login(ip, editor.username, editor.password).expect(429);

    expect(blocked.body).toMatchObject({ error: 'too-many-attempts' });
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    await login(anIp(), editor.username, editor.password).expect(200);
  });
});
