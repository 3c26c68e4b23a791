import { randomBytes } from 'node:crypto';
import { copyFile, mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { chromium, type Browser, type BrowserContext, type Page, type Route } from 'playwright-core';
import { deviceTopic } from '../src/broker/topics.js';
import { aDevice, connect, deviceState, dropLink, publish } from './support/devices.js';
import { anArea } from './support/factories.js';
import { TestFirmware } from './support/firmware.js';
import { aWav } from './support/media.js';
import { startTestApp, ADMIN, eventually, type TestApp } from './support/test-app.js';
import { aUser, type TestUser } from './support/users.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(import.meta.dirname, 'artifacts');
/** The README's screenshot is rewritten only on request, so a test run leaves the tree clean. */
const UPDATE_DOCS = process.env.UPDATE_DOCS_SCREENSHOTS === '1';
const DOCS_SCREENSHOT = join(import.meta.dirname, '..', 'docs', 'dashboard.png');

/** What page.evaluate callbacks touch in the page (the project's TypeScript has no DOM types). */
interface PageGlobals {
  sessionStorage: { getItem(key: string): string | null; setItem(key: string, value: string): void };
  scrollTo(x: number, y: number): void;
}

/** Playwright-core has no `expect`; its locators wait on their own, up to this long. */
const UI_TIMEOUT_MS = 15_000;

async function launchChromium(): Promise<Browser> {
  try {
    return await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  } catch (err) {
    throw new Error(
      `the dashboard tests drive Chromium at ${CHROMIUM} (CHROMIUM_PATH to override) and it did not start — ` +
        `install it (apt-get install chromium): ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
}

/** Speakers of a Bắc Kạn-like province, with coordinates so the map has something to draw. */
interface Fleet {
  province: string;
  districts: { code: string; name: string }[];
  communes: { code: string; name: string }[];
  speakers: { code: string; secret: string; name: string; commune: string }[];
}

async function aFleet(t: TestApp): Promise<Fleet> {
  const province = await anArea(t, { name: 'Tỉnh Bắc Kạn' });
  const bachThong = await anArea(t, { parentCode: province.code, name: 'Huyện Bạch Thông' });
  const choDon = await anArea(t, { parentCode: province.code, name: 'Huyện Chợ Đồn' });
  const communes = [
    await anArea(t, { parentCode: bachThong.code, name: 'Xã Vi Hương' }),
    await anArea(t, { parentCode: bachThong.code, name: 'Xã Quân Hà' }),
    await anArea(t, { parentCode: choDon.code, name: 'Xã Bằng Lãng' }),
  ];
  const places = [
    [0, 'Cụm loa thôn Nà Pài', 22.215, 105.862],
    [0, 'Cụm loa thôn Bản Chiêng', 22.231, 105.851],
    [0, 'Cụm loa UBND xã Vi Hương', 22.224, 105.874],
    [1, 'Cụm loa thôn Nà Lẹng', 22.262, 105.829],
    [1, 'Cụm loa chợ Quân Hà', 22.255, 105.843],
    [1, 'Cụm loa thôn Khuổi Chủ', 22.271, 105.817],
    [2, 'Cụm loa thôn Bản Tàn', 22.151, 105.713],
    [2, 'Cụm loa trường Bằng Lãng', 22.143, 105.729],
    [2, 'Cụm loa thôn Nà Bản', 22.162, 105.701],
  ] as const;
  const speakers = [];
  for (const [i, name, latitude, longitude] of places) {
    const code = `bk-${randomBytes(4).toString('hex')}`;
    const res = await t
      .http()
      .post('/api/v1/devices')
      .set('Authorization', t.auth)
      .send({ code, name, areaCode: communes[i].code, latitude, longitude });
    if (res.status !== 201) throw new Error(`provisioning ${code}: ${res.status} ${JSON.stringify(res.body)}`);
    speakers.push({ code, secret: res.body.secret as string, name, commune: communes[i].code });
  }
  return {
    province: province.code,
    districts: [bachThong, choDon].map(({ code, name }) => ({ code, name })),
    communes: communes.map(({ code, name }) => ({ code, name })),
    speakers,
  };
}

async function goOnline(t: TestApp, speaker: { code: string; secret: string }): Promise<MqttClient> {
  const client = await connect(t, speaker.code, speaker.secret);
  await publish(client, deviceTopic(speaker.code, 'heartbeat'), JSON.stringify({ seq: 1, rssi: -70, power: 'mains' }));
  return client;
}

async function logIn(page: Page, t: TestApp, username: string, password: string): Promise<void> {
  await page.goto(`${t.apiUrl}/`);
  await page.getByLabel('Tên đăng nhập').fill(username);
  await page.getByLabel('Mật khẩu').fill(password);
  await page.getByRole('button', { name: 'Đăng nhập' }).click();
  await page.locator('#who-name').filter({ hasText: username }).waitFor();
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

describe('Dashboard', () => {
  let t: TestApp;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const clients: MqttClient[] = [];
  const speakers: TestFirmware[] = [];

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    browser = await launchChromium();
    t = await startTestApp({
      OFFLINE_GRACE_S: '1',
      LIVENESS_SWEEP_S: '1',
      ALARM_OFFLINE_AFTER_S: '1',
      ALARM_SWEEP_S: '1',
      ALARM_CLEAR_AFTER_S: '0',
    });
  });

  beforeEach(async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
    context.setDefaultTimeout(UI_TIMEOUT_MS);
    page = await context.newPage();
    page.on('pageerror', (err) => console.error(`dashboard page error: ${err.message}`));
  });

  afterEach(async () => {
    await context?.close();
    for (const client of clients.splice(0)) client.end(true);
    for (const speaker of speakers.splice(0)) await speaker.close();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('is served at / with a self-only Content-Security-Policy, and leaves the API alone', async () => {
    const index = await t.http().get('/').expect(200);
    const script = await t.http().get('/dashboard/js/app.js').expect(200);

    expect(index.headers['content-type']).toMatch(/^text\/html/);
    expect(index.text).toContain('<html lang="vi">');
    expect(index.headers['content-security-policy']).toContain("default-src 'self'");
    expect(index.headers['content-security-policy']).toContain("script-src 'self'");
    expect(index.headers['cache-control']).toBe('no-cache');
    expect(script.headers['content-type']).toMatch(/^text\/javascript/);
    const roles = await t.http().get('/dashboard/permissions.json').expect(200);
    expect(roles.body['alarms:acknowledge']).toEqual(['admin', 'operator']);
    await t.http().get('/').set('If-None-Match', index.headers.etag).expect(304);
    await t.http().get('/dashboard/..%2Fpackage.json').expect(404);
    await t.http().get('/dashboard/nothing-here.js').expect(404);
    await t.http().get('/api/v1/devices').expect(401);
    await t.http().get('/health').expect(200);
  });

  it('logs an operator in through the Vietnamese form, switches to English and remembers it', async () => {
    const province = await anArea(t, { name: 'Tỉnh Bắc Kạn' });
    const operator = await aUser(t, 'operator', province.code);

    await page.goto(`${t.apiUrl}/`);
    await page.getByRole('heading', { name: 'Đăng nhập' }).waitFor();
    expect(await page.getAttribute('html', 'lang')).toBe('vi');
    await page.getByLabel('Mật khẩu').fill('not-the-password');
    await page.getByLabel('Tên đăng nhập').fill(operator.username);
    await page.getByRole('button', { name: 'Đăng nhập' }).click();
    await page.getByText('Sai tên đăng nhập hoặc mật khẩu.').waitFor();
    await page.getByLabel('Mật khẩu').fill(operator.password);
    await page.getByRole('button', { name: 'Đăng nhập' }).click();
    await page.locator('#who-role').filter({ hasText: 'Vận hành viên' }).waitFor();
    await page.locator('#who-area').filter({ hasText: 'Tỉnh Bắc Kạn' }).waitFor();
    await page.getByRole('heading', { name: 'Tình trạng loa' }).waitFor();
    expect(await page.locator('#emergency').isHidden()).toBe(true);
    expect(await page.locator('#upload-form').isHidden()).toBe(true);
    expect(await page.locator('#schedule-form').isHidden()).toBe(true);
    await shot(page, 'login-vi');

    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { name: 'Speakers', exact: true }).waitFor();
    await page.locator('#who-role').filter({ hasText: 'Operator' }).waitFor();
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    await page.reload();
    await page.getByRole('heading', { name: 'Offline speakers' }).waitFor();
    await page.locator('#who-name').filter({ hasText: operator.username }).waitFor();
    await shot(page, 'overview-en');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByRole('button', { name: 'Tiếng Việt' }).click();
    await page.getByLabel('Tên đăng nhập').waitFor();
  });

  it('renews the access token before it expires and when it is refused, and signs out when renewal fails', async () => {
    const province = await anArea(t, { name: 'Tỉnh Bắc Kạn' });
    const operator = await aUser(t, 'operator', province.code);
    await logIn(page, t, operator.username, operator.password);
    const spoil = (field: string, value: unknown = 'spoilt') =>
      page.evaluate(([name, spoilt]) => {
        const { sessionStorage } = globalThis as unknown as PageGlobals;
        const session = JSON.parse(sessionStorage.getItem('loa.session')!);
        session[name as string] = spoilt;
        sessionStorage.setItem('loa.session', JSON.stringify(session));
      }, [field, value]);
    const storedSession = () => page.evaluate(() => (globalThis as unknown as PageGlobals).sessionStorage.getItem('loa.session'));
    const renewal = () => page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/refresh') && r.status() === 200);

    // As if the page had been open for nearly the token's whole life: the timer renews it.
    await spoil('expiresAt', Date.now() + 63_000);
    const renewedOnTime = renewal();
    await page.reload();
    await renewedOnTime;
    expect(JSON.parse((await storedSession())!).expiresAt).toBeGreaterThan(Date.now() + 600_000);

    await spoil('accessToken');
    const renewed = renewal();
    await page.reload();
    await renewed;
    await page.locator('#live-status[data-state="live"]').waitFor();
    await page.locator('#who-name').filter({ hasText: operator.username }).waitFor();
    expect(JSON.parse((await storedSession())!).accessToken).not.toBe('spoilt');

    await spoil('accessToken');
    await spoil('refreshToken');
    await page.reload();
    await page.getByText('Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại.').waitFor();
    await page.getByRole('heading', { name: 'Đăng nhập' }).waitFor();
    expect(await storedSession()).toBeNull();
  });

  it('shows a speaker going offline on the open page without a reload, lets an operator acknowledge its alarm, and catches up after a network break', async () => {
    const fleet = await aFleet(t);
    const operator = await aUser(t, 'operator', fleet.province);
    const [watched, alsoLost, ...rest] = fleet.speakers;
    for (const speaker of [watched, alsoLost, ...rest.slice(0, 4)]) clients.push(await goOnline(t, speaker));
    await eventually(async () => (await deviceState(t, rest[3].code)) === 'online');
    dropLink(clients[1]);
    await eventually(async () => (await deviceState(t, alsoLost.code)) === 'offline');

    await logIn(page, t, operator.username, operator.password);
    const dot = page.locator(`#fleet-map circle[data-device="${watched.code}"]`);
    await page.locator(`#fleet-map circle[data-device="${watched.code}"][data-state="online"]`).waitFor();
    await page.locator('#fleet-table tr', { hasText: 'Huyện Bạch Thông' }).waitFor();
    await page.locator(`#offline-table tr[data-device="${alsoLost.code}"]`).waitFor();
    await page.locator(`#offline-table tr[data-device="${watched.code}"]`).waitFor({ state: 'detached' });
    await page.locator('#live-status[data-state="live"]').waitFor();
    dropLink(clients[0]);

    await page.locator(`#offline-table tr[data-device="${watched.code}"]`, { hasText: watched.name }).waitFor();
    await page.locator(`#fleet-map circle[data-device="${watched.code}"][data-state="offline"]`).waitFor();
    await page.locator('#fleet-totals [data-state="offline"] .tile-n', { hasText: /^2$/ }).waitFor();
    expect(await dot.getAttribute('class')).toContain('offline');
    const alarm = page.locator(`#alarms-table tr[data-device="${watched.code}"]`);
    await alarm.getByRole('button', { name: 'Xác nhận' }).click({ timeout: 30_000 });
    await alarm.getByText('Chưa').waitFor({ state: 'detached' });
    await shot(page, 'offline-live');
    if (UPDATE_DOCS) {
      await page.evaluate(() => (globalThis as unknown as PageGlobals).scrollTo(0, 0));
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png') });
      await copyFile(join(ARTIFACTS, 'dashboard.png'), DOCS_SCREENSHOT);
    }

    // Loa's HTTP connections drop; the page's next attempt is held until a speaker has gone offline meanwhile.
    const reconnected = new Promise<Route>((resolve) => page.route('**/api/v1/events', (route) => resolve(route)));
    (t.app.getHttpServer() as Server).closeAllConnections();
    const reconnect = await reconnected;
    dropLink(clients[2]);
    await eventually(async () => (await deviceState(t, rest[0].code)) === 'offline');
    expect(reconnect.request().headers()['last-event-id']).toMatch(/\S/);
    await reconnect.continue();
    await page.locator(`#offline-table tr[data-device="${rest[0].code}"]`).waitFor();
    await page.locator('#fleet-totals [data-state="offline"] .tile-n', { hasText: /^3$/ }).waitFor();
  });

  it('schedules a broadcast through the forms: upload, draft, submit, approve, once to a commune', async () => {
    const province = await anArea(t);
    const district = await anArea(t, { parentCode: province.code });
    const commune = await anArea(t, { parentCode: district.code, name: 'Xã Vi Hương' });
    const speaker = await t
      .http()
      .post('/api/v1/devices')
      .set('Authorization', t.auth)
      .send({ code: `bk-${randomBytes(4).toString('hex')}`, name: 'Cụm loa thôn Nà Pài', areaCode: commune.code });
    const title = `Thông báo lịch tiêm chủng ${randomBytes(3).toString('hex')}`;
    const startAt = new Date(Math.ceil((Date.now() + 2 * 3600_000) / 60_000) * 60_000);
    const vietnamLocal = new Date(startAt.getTime() + 7 * 3600_000).toISOString().slice(0, 16);

    await logIn(page, t, ADMIN.username, ADMIN.password);
    await page.getByLabel('Tệp âm thanh (MP3, WAV, Ogg, M4A)').setInputFiles({ name: 'thong-bao.wav', mimeType: 'audio/wav', buffer: aWav(1500) });
    await page.locator('#upload-title').fill(title);
    await page.locator('#upload-category').selectOption('covid-19');
    await page.getByRole('button', { name: 'Tải lên và tạo bản nháp' }).click();
    const row = page.locator('#bulletins-table tr', { hasText: title });
    await row.getByText('Bản nháp').waitFor();
    await row.getByRole('button', { name: `Gửi duyệt: ${title}` }).click();
    await row.getByText('Chờ duyệt').waitFor();
    await row.getByRole('button', { name: `Duyệt: ${title}` }).click();
    await row.getByText('Đã duyệt').waitFor();
    await page.locator('#schedule-bulletin').selectOption({ label: title });
    await page.getByLabel('Khu vực nhận (mã hoặc tên)').first().fill(commune.code);
    await page.getByLabel('Một lần, vào lúc').check();
    await page.getByLabel('Bắt đầu (giờ Việt Nam, UTC+7)').fill(vietnamLocal);
    await page.getByRole('button', { name: 'Lên lịch', exact: true }).click();
    await page.getByText('Đã lên lịch: 1 loa sẽ nhận.').waitFor();
    await page.locator('#broadcasts-table tr', { hasText: title }).waitFor();
    await shot(page, 'scheduled');

    expect(speaker.status).toBe(201);
    const bulletins = await t.http().get('/api/v1/bulletins').query({ q: title }).set('Authorization', t.auth).expect(200);
    expect(bulletins.body.items).toEqual([expect.objectContaining({ title, category: 'covid-19', status: 'approved' })]);
    const listed = await t.http().get('/api/v1/broadcasts').query({ bulletinId: bulletins.body.items[0].id }).set('Authorization', t.auth).expect(200);
    expect(listed.body.items).toEqual([
      expect.objectContaining({
        priority: 'normal',
        state: 'active',
        schedule: expect.objectContaining({ kind: 'once', startAt: startAt.toISOString() }),
        targets: { areaCodes: [commune.code], deviceCodes: [] },
      }),
    ]);
  });

  it('sends an emergency broadcast only after its confirmation dialog, then shows its progress live', async () => {
    const province = await anArea(t, { name: 'Tỉnh Bắc Kạn' });
    const district = await anArea(t, { parentCode: province.code });
    const commune = await anArea(t, { parentCode: district.code, name: 'Xã Quân Hà' });
    const device = await aDevice(t, { areaCode: commune.code, name: 'Cụm loa chợ Quân Hà' });
    speakers.push(await TestFirmware.online(t, device, [province.code, district.code, commune.code], { autoAck: true }));
    const editor = await aUser(t, 'editor', province.code);
    const approver = await aUser(t, 'approver', province.code);
    const title = `Cảnh báo lũ quét ${randomBytes(3).toString('hex')}`;
    const bulletinId = await aSubmittedBulletin(t, editor, title);

    await logIn(page, t, approver.username, approver.password);
    await page.getByRole('heading', { name: 'Phát khẩn cấp', exact: true }).waitFor();
    expect(await page.locator('#upload-form').isHidden()).toBe(true);
    await page.locator('#emergency-bulletin').selectOption({ label: title });
    await page.locator('#emergency-area').fill(commune.code);
    await page.getByRole('button', { name: 'Phát khẩn cấp…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Xác nhận phát khẩn cấp' });
    await dialog.getByText(title).waitFor();
    await shot(page, 'emergency-confirm');
    await dialog.getByRole('button', { name: 'Huỷ' }).click();
    await page.getByText('Đã huỷ, chưa phát gì.').waitFor();
    const none = await t.http().get('/api/v1/broadcasts').query({ bulletinId }).set('Authorization', t.auth).expect(200);
    expect(none.body.items).toEqual([]);
    await page.getByRole('button', { name: 'Phát khẩn cấp…' }).click();
    await dialog.getByRole('button', { name: 'Phát khẩn cấp ngay' }).click();
    await page.getByText('Đã phát khẩn cấp tới 1 loa.').waitFor();
    const row = page.locator('#broadcasts-table tr[data-priority="emergency"]', { hasText: title });
    await row.getByText('0/1 loa đã phát xong').waitFor();
    const sent = await t.http().get('/api/v1/broadcasts').query({ bulletinId }).set('Authorization', t.auth).expect(200);
    expect(sent.body.items).toEqual([expect.objectContaining({ priority: 'emergency', schedule: expect.objectContaining({ kind: 'now' }) })]);
    const detail = await t.http().get(`/api/v1/broadcasts/${sent.body.items[0].id}`).set('Authorization', t.auth).expect(200);
    await speakers[0].report('started', detail.body.occurrences[0].id);
    await speakers[0].report('finished', detail.body.occurrences[0].id);
    await row.getByText('1/1 loa đã phát xong').waitFor();
    await shot(page, 'emergency-sent');

    const bulletin = await t.http().get(`/api/v1/bulletins/${bulletinId}`).set('Authorization', t.auth).expect(200);
    expect(bulletin.body.status).toBe('approved');
  });
});

/** An editor of the area uploads audio and submits a bulletin of it, through the API. */
async function aSubmittedBulletin(t: TestApp, editor: TestUser, title: string): Promise<string> {
  const media = await t.http().post('/api/v1/media').set('Authorization', editor.auth).attach('file', aWav(1500), 'canh-bao.wav');
  if (media.status !== 201) throw new Error(`upload as editor: ${media.status} ${JSON.stringify(media.body)}`);
  const draft = await t
    .http()
    .post('/api/v1/bulletins')
    .set('Authorization', editor.auth)
    .send({ title, category: 'disaster', mediaId: media.body.id });
  if (draft.status !== 201) throw new Error(`draft as editor: ${draft.status} ${JSON.stringify(draft.body)}`);
  const submitted = await t.http().post(`/api/v1/bulletins/${draft.body.id}/submit`).set('Authorization', editor.auth);
  if (submitted.status !== 200) throw new Error(`submit as editor: ${submitted.status} ${JSON.stringify(submitted.body)}`);
  return draft.body.id as string;
}
