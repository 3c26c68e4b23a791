import { startTestApp, type TestApp } from './support/test-app.js';

describe('demo areas seeding', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ SEED_DEMO_AREAS: 'true' });
  });
  afterAll(() => t.close());

  it('imports the Bắc Kạn demo tree into an empty database at boot', async () => {
    const viHuong = await t.http().get('/api/v1/areas/01975').set('Authorization', t.auth).expect(200);
    const provinces = await t.http().get('/api/v1/areas?level=province').set('Authorization', t.auth).expect(200);

    expect(viHuong.body.ancestors.map((a: { name: string }) => a.name)).toEqual(['Tỉnh Bắc Kạn', 'Huyện Bạch Thông']);
    expect(provinces.body.items).toEqual([expect.objectContaining({ code: '06', name: 'Tỉnh Bắc Kạn' })]);
  });
});
