import { startTestApp, type TestApp } from './support/test-app.js';

describe('health', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('answers liveness and readiness without a token', async () => {
    await t.http().get('/health').expect(200, { status: 'ok' });

    const ready = await t.http().get('/health/ready').expect(200);

    expect(ready.body).toEqual({ status: 'ok', checks: { postgres: 'ok', redis: 'ok', broker: 'ok' } });
  });

  it('refuses the API without a valid bearer token', async () => {
    await t.http().get('/api/v1/devices').expect(401);
    await t.http().get('/api/v1/devices').set('Authorization', 'Bearer not-a-jwt').expect(401);
  });

  it('refuses a wrong password', async () => {
    await t.http().post('/api/v1/auth/login').send({ username: 'admin', password: 'wrong-password' }).expect(401);
  });
});
