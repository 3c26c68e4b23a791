import { randomUUID } from 'node:crypto';
import { aDevice } from './support/devices.js';
import { anArea, anAreaTree } from './support/factories.js';
import { TestFirmware } from './support/firmware.js';
import { aWav } from './support/media.js';
import { eventually, startTestApp, type TestApp } from './support/test-app.js';
import { aUser, type TestUser } from './support/users.js';

describe('Emergency approval (POST /api/v1/broadcasts/emergency)', () => {
  let t: TestApp;
  let tree: { province: string; district: string; commune: string };
  let siblingCommune: string;
  let approver: TestUser;
  let editor: TestUser;
  let speaker: TestFirmware;
  const online: TestFirmware[] = [];

  beforeAll(async () => {
    t = await startTestApp({ MISSED_GRACE_S: '2', PLAY_RETRY_S: '1' });
    tree = await anAreaTree(t);
    const sibling = await anArea(t, { parentCode: tree.province });
    siblingCommune = (await anArea(t, { parentCode: sibling.code })).code;
    approver = await aUser(t, 'approver', tree.district);
    editor = await aUser(t, 'editor', tree.district);
    speaker = await aSpeaker();
  });
  afterAll(async () => {
    await Promise.all(online.map((f) => f.close().catch(() => undefined)));
    await t.close();
  });

  /** A connected speaker in the district's commune; each story plays on its own, so plays never overlap across stories. */
  const aSpeaker = async () => {
    const device = await aDevice(t, { areaCode: tree.commune });
    const firmware = await TestFirmware.online(t, device, [tree.province, tree.district, tree.commune]);
    online.push(firmware);
    return firmware;
  };

  const as = (user: TestUser | 'admin') => {
    const auth = user === 'admin' ? t.auth : user.auth;
    return {
      get: (path: string) => t.http().get(path).set('Authorization', auth),
      post: (path: string, body: object = {}) => t.http().post(path).set('Authorization', auth).send(body),
      upload: (durationMs: number) => t.http().post('/api/v1/media').set('Authorization', auth).attach('file', aWav(durationMs), 'alert.wav'),
    };
  };

  /** A bulletin written and submitted by the district editor, awaiting approval. */
  const aSubmittedBulletin = async (durationMs = 2000): Promise<string> => {
    const media = await as(editor).upload(durationMs).expect(201);
    const bulletin = await as(editor).post('/api/v1/bulletins', { title: 'Cảnh báo lũ quét', category: 'disaster', mediaId: media.body.id }).expect(201);
    await as(editor).post(`/api/v1/bulletins/${bulletin.body.id}/submit`).expect(200);
    return bulletin.body.id as string;
  };
  const emergency = (user: TestUser | 'admin', body: object) => as(user).post('/api/v1/broadcasts/emergency', body);

  it('lets an approver approve a submitted bulletin and play it now on the speakers of the district', async () => {
    const bulletinId = await aSubmittedBulletin();

    const res = await emergency(approver, { bulletinId, targets: { areaCodes: [tree.district] }, volume: 100 });

    expect(res.status).toBe(201);
    expect(res.body.bulletin).toMatchObject({ id: bulletinId, status: 'approved', reviewedById: approver.id, areaCode: tree.district });
    expect(res.body.broadcast).toMatchObject({
      bulletinId,
      priority: 'emergency',
      volume: 100,
      state: 'active',
      schedule: { kind: 'now' },
      areaCode: tree.district,
      targetDeviceCount: 1,
      createdById: approver.id,
      preempted: { others: 0, own: 0 },
    });
    const occurrenceId: string = res.body.broadcast.occurrences[0].id;
    const play = await eventually(async () => speaker.commands.find((c) => c.type === 'play' && c.occurrenceId === occurrenceId));
    expect(play).toMatchObject({ priority: 'emergency', volume: 100 });
    const stored = await as(approver).get(`/api/v1/bulletins/${bulletinId}`).expect(200);
    expect(stored.body).toMatchObject({ status: 'approved', reviewedById: approver.id });
  });

  it('takes an already approved bulletin as it is', async () => {
    const own = await aSpeaker();
    const bulletinId = await aSubmittedBulletin();
    const approved = (await as('admin').post(`/api/v1/bulletins/${bulletinId}/approve`).expect(200)).body;

    const res = await emergency(approver, { bulletinId, targets: { deviceCodes: [own.device.code] } });

    expect(res.status).toBe(201);
    expect(res.body.bulletin).toMatchObject({ status: 'approved', reviewedById: approved.reviewedById, reviewedAt: approved.reviewedAt });
    expect(res.body.bulletin.reviewedById).not.toBe(approver.id);
    expect(res.body.broadcast).toMatchObject({ priority: 'emergency', areaCode: tree.commune, targetDeviceCount: 1 });
    await eventually(async () => own.commands.find((c) => c.type === 'play' && c.occurrenceId === res.body.broadcast.occurrences[0].id));
  });

  it('refuses an editor with 403 and leaves the bulletin submitted', async () => {
    const bulletinId = await aSubmittedBulletin();

    const res = await emergency(editor, { bulletinId, targets: { areaCodes: [tree.district] } });

    expect(res.status).toBe(403);
    expect(res.body.error).toBe('forbidden');
    expect((await as(editor).get(`/api/v1/bulletins/${bulletinId}`).expect(200)).body.status).toBe('submitted');
  });

  it('answers a target outside the approver’s district exactly as an unknown one, and approves nothing', async () => {
    const bulletinId = await aSubmittedBulletin();

    const outside = await emergency(approver, { bulletinId, targets: { areaCodes: [siblingCommune] } });
    const unknown = await emergency(approver, { bulletinId, targets: { areaCodes: ['x-nowhere'] } });

    expect(outside.status).toBe(unknown.status);
    expect(outside.status).toBe(400);
    expect(outside.body).toEqual({
      error: 'unknown-targets',
      message: `unknown area(s): ${siblingCommune}`,
      unknownAreaCodes: [siblingCommune],
      unknownDeviceCodes: [],
    });
    expect(unknown.body).toMatchObject({ error: 'unknown-targets', unknownAreaCodes: ['x-nowhere'] });
    expect((await as(approver).get(`/api/v1/bulletins/${bulletinId}`).expect(200)).body.status).toBe('submitted');
  });

  it('answers a bulletin outside the approver’s district with the 404 of a missing one', async () => {
    const media = await as('admin').upload(1000).expect(201);
    const national = await as('admin').post('/api/v1/bulletins', { title: 'Quốc gia', category: 'news', mediaId: media.body.id }).expect(201);
    await as('admin').post(`/api/v1/bulletins/${national.body.id}/submit`).expect(200);
    const missing = randomUUID();

    const outside = await emergency(approver, { bulletinId: national.body.id, targets: { areaCodes: [tree.district] } });
    const absent = await emergency(approver, { bulletinId: missing, targets: { areaCodes: [tree.district] } });

    expect(outside.status).toBe(404);
    expect(outside.body).toEqual({ error: 'not-found', message: `bulletin ${national.body.id} not found` });
    expect(absent.body).toEqual({ error: 'not-found', message: `bulletin ${missing} not found` });
    expect((await as('admin').get(`/api/v1/bulletins/${national.body.id}`).expect(200)).body.status).toBe('submitted');
  });

  it('leaves the bulletin submitted when the broadcast is refused', async () => {
    const own = await aSpeaker();
    const playing = await aSubmittedBulletin(60_000);
    await emergency(approver, { bulletinId: playing, targets: { deviceCodes: [own.device.code] } }).expect(201);
    const second = await aSubmittedBulletin();

    const res = await emergency(approver, { bulletinId: second, targets: { deviceCodes: [own.device.code] } });

    expect(res.status).toBe(409);
    expect(res.body.error).toBe('overlap');
    const bulletin = (await as(approver).get(`/api/v1/bulletins/${second}`).expect(200)).body;
    expect(bulletin).toMatchObject({ status: 'submitted', reviewedById: null, reviewedAt: null });
    expect((await as(approver).get(`/api/v1/broadcasts?bulletinId=${second}`).expect(200)).body.total).toBe(0);
  });

  it('refuses a draft with 409 not-approved', async () => {
    const media = await as(editor).upload(1000).expect(201);
    const draft = await as(editor).post('/api/v1/bulletins', { title: 'Nháp', category: 'news', mediaId: media.body.id }).expect(201);

    const res = await emergency(approver, { bulletinId: draft.body.id, targets: { areaCodes: [tree.district] } });

    expect([res.status, res.body.error]).toEqual([409, 'not-approved']);
    expect((await as(editor).get(`/api/v1/bulletins/${draft.body.id}`).expect(200)).body.status).toBe('draft');
  });

  it('validates the body like an ordinary broadcast, and refuses a schedule or priority of its own', async () => {
    const media = await as(editor).upload(1000).expect(201);
    const bulletin = await as(editor).post('/api/v1/bulletins', { title: 'Sai', category: 'news', mediaId: media.body.id }).expect(201);
    await as(editor).post(`/api/v1/bulletins/${bulletin.body.id}/submit`, {}).expect(200);
    const base = { bulletinId: bulletin.body.id, targets: { areaCodes: [tree.district] } };

    for (const extra of [{ volume: 101 }, { expiresInS: 1 }, { priority: 'normal' }, { schedule: { kind: 'now' } }]) {
      const res = await emergency(approver, { ...base, ...extra });
      expect([JSON.stringify(extra), res.status, res.body.error]).toEqual([JSON.stringify(extra), 400, 'validation']);
    }
    expect((await as(editor).get(`/api/v1/bulletins/${bulletin.body.id}`).expect(200)).body.status).toBe('submitted');
  });
});
