import { randomUUID } from 'node:crypto';
import { ConflictException, NotFoundException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { BulletinsService } from '../src/bulletins/bulletins.service.js';
import type { Principal } from '../src/auth/principal.js';
import { anApprovedBulletin } from './support/bulletins.js';
import { uploadAudio } from './support/media.js';
import { ADMIN, startTestApp, type TestApp } from './support/test-app.js';

describe('bulletins', () => {
  let t: TestApp;
  let adminId: string;
  let mediaId: string;

  beforeAll(async () => {
    t = await startTestApp();
    [{ id: adminId }] = await t.app.get(DataSource).query('SELECT id FROM users WHERE username = $1', [ADMIN.username]);
    mediaId = (await uploadAudio(t, { durationMs: 1500 })).id;
  });
  afterAll(() => t.close());

  const api = () => ({
    get: (path: string) => t.http().get(path).set('Authorization', t.auth),
    post: (path: string, body?: object) => t.http().post(path).set('Authorization', t.auth).send(body),
    patch: (path: string, body: object) => t.http().patch(path).set('Authorization', t.auth).send(body),
  });
  const aDraft = async (fields: object = {}) =>
    (await api().post('/api/v1/bulletins', { title: 'Lịch tiêm chủng tháng 3', category: 'covid-19', mediaId, ...fields }).expect(201)).body;
  const aSubmitted = async (fields: object = {}) => {
    const draft = await aDraft(fields);
    return (await api().post(`/api/v1/bulletins/${draft.id}/submit`).expect(200)).body;
  };
  const countRows = async () => Number((await t.app.get(DataSource).query('SELECT count(*) AS n FROM bulletins'))[0].n);
  const noTrail = { submittedById: null, submittedAt: null, reviewedById: null, reviewedAt: null, rejectionReason: null };

  describe('approval workflow', () => {
    it('creates a draft with its media, then submits and approves it, recording who and when', async () => {
      const created = await api()
        .post('/api/v1/bulletins', { title: '  Phòng chống bão số 3 ', category: 'disaster', mediaId, notes: 'đọc chậm' })
        .expect(201);
      const submitted = await api().post(`/api/v1/bulletins/${created.body.id}/submit`).expect(200);
      const approved = await api().post(`/api/v1/bulletins/${created.body.id}/approve`).expect(200);

      expect(created.body).toMatchObject({
        title: 'Phòng chống bão số 3',
        category: 'disaster',
        status: 'draft',
        notes: 'đọc chậm',
        createdById: adminId,
        media: { id: mediaId, kind: 'file', durationMs: expect.any(Number), mime: expect.stringMatching(/^audio\//), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
        ...noTrail,
      });
      expect(submitted.body).toMatchObject({ status: 'submitted', submittedById: adminId, reviewedById: null });
      expect(approved.body).toMatchObject({ status: 'approved', submittedById: adminId, submittedAt: submitted.body.submittedAt, reviewedById: adminId, rejectionReason: null });
      expect(Date.parse(approved.body.reviewedAt)).toBeGreaterThanOrEqual(Date.parse(submitted.body.submittedAt));
      expect((await api().get(`/api/v1/bulletins/${created.body.id}`).expect(200)).body).toEqual(approved.body);
    });

    it('rejects with a reason, and a resubmission starts a fresh review', async () => {
      const submitted = await aSubmitted();

      const rejected = await api().post(`/api/v1/bulletins/${submitted.id}/reject`, { reason: 'Sai tên xã ở phút 0:42' }).expect(200);
      const resubmitted = await api().post(`/api/v1/bulletins/${submitted.id}/submit`).expect(200);

      expect(rejected.body).toMatchObject({ status: 'rejected', reviewedById: adminId, rejectionReason: 'Sai tên xã ở phút 0:42', submittedById: adminId });
      expect(rejected.body.reviewedAt).not.toBeNull();
      expect(resubmitted.body).toMatchObject({ status: 'submitted', submittedById: adminId, reviewedById: null, reviewedAt: null, rejectionReason: null });
    });

    it.each(['approved', 'rejected', 'submitted'])('sends an edited %s bulletin back to draft and clears its trail', async (status) => {
      const submitted = await aSubmitted();
      if (status === 'approved') await api().post(`/api/v1/bulletins/${submitted.id}/approve`).expect(200);
      if (status === 'rejected') await api().post(`/api/v1/bulletins/${submitted.id}/reject`, { reason: 'quá dài' }).expect(200);
      const otherMedia = (await uploadAudio(t, { durationMs: 1000 })).id;

      const edited = await api().patch(`/api/v1/bulletins/${submitted.id}`, { title: 'Bản sửa', mediaId: otherMedia, notes: null }).expect(200);

      expect(edited.body).toMatchObject({ status: 'draft', title: 'Bản sửa', notes: null, media: { id: otherMedia }, createdById: adminId, ...noTrail });
    });

    it('leaves a bulletin as it is when a PATCH changes nothing', async () => {
      const approved = await anApprovedBulletin(t);

      const res = await api().patch(`/api/v1/bulletins/${approved.id}`, {}).expect(200);

      expect(res.body).toMatchObject({ status: 'approved', reviewedById: adminId });
    });

    it.each([
      ['submit', 'submitted', 'bulletin is submitted; only a draft or rejected bulletin can be submitted'],
      ['submit', 'approved', 'bulletin is approved; only a draft or rejected bulletin can be submitted'],
      ['approve', 'draft', 'bulletin is draft; only a submitted bulletin can be approved'],
      ['approve', 'approved', 'bulletin is approved; only a submitted bulletin can be approved'],
      ['approve', 'rejected', 'bulletin is rejected; only a submitted bulletin can be approved'],
      ['reject', 'draft', 'bulletin is draft; only a submitted bulletin can be rejected'],
      ['reject', 'approved', 'bulletin is approved; only a submitted bulletin can be rejected'],
      ['reject', 'rejected', 'bulletin is rejected; only a submitted bulletin can be rejected'],
    ])('refuses to %s a bulletin that is %s with 409 and changes nothing', async (step, from, message) => {
      const bulletin = await aDraft();
      const path = `/api/v1/bulletins/${bulletin.id}`;
      if (from !== 'draft') await api().post(`${path}/submit`).expect(200);
      if (from === 'approved') await api().post(`${path}/approve`).expect(200);
      if (from === 'rejected') await api().post(`${path}/reject`, { reason: 'x' }).expect(200);
      const before = (await api().get(path).expect(200)).body;

      const res = await api().post(`${path}/${step}`, step === 'reject' ? { reason: 'again' } : {}).expect(409);

      expect(res.body).toMatchObject({ error: 'invalid-transition', message });
      expect((await api().get(path).expect(200)).body).toEqual(before);
    });

    it('lets only one of two simultaneous reviews win', async () => {
      const submitted = await aSubmitted();
      const path = `/api/v1/bulletins/${submitted.id}`;

      const results = await Promise.all([
        api().post(`${path}/approve`),
        api().post(`${path}/reject`, { reason: 'không phù hợp' }),
        api().post(`${path}/approve`),
      ]);

      expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409]);
      const winner = results.find((r) => r.status === 200)!.body;
      expect((await api().get(path).expect(200)).body).toMatchObject({ status: winner.status, rejectionReason: winner.rejectionReason });
    });

    it('answers 404 for an unknown bulletin and 400 for a malformed id', async () => {
      const id = randomUUID();

      await api().get(`/api/v1/bulletins/${id}`).expect(404);
      await api().post(`/api/v1/bulletins/${id}/approve`).expect(404);
      await api().patch(`/api/v1/bulletins/${id}`, { title: 'x' }).expect(404);
      const bad = await api().get('/api/v1/bulletins/not-a-uuid').expect(400);
      expect(bad.body.error).toBe('validation');
    });
  });

  describe('validation', () => {
    it.each([
      ['no title', { category: 'news' }],
      ['a blank title', { title: '   ', category: 'news' }],
      ['a title over 200 characters', { title: 'x'.repeat(201), category: 'news' }],
      ['an unknown category', { title: 'x', category: 'gossip' }],
      ['a malformed media id', { title: 'x', category: 'news', mediaId: 'abc' }],
      ['notes over 4000 characters', { title: 'x', category: 'news', notes: 'x'.repeat(4001) }],
      ['an unknown field', { title: 'x', category: 'news', status: 'approved' }],
    ])('refuses %s with 400 and creates nothing', async (_what, body) => {
      const before = await countRows();

      const res = await api().post('/api/v1/bulletins', { mediaId, ...body }).expect(400);

      expect(res.body.error).toBe('validation');
      expect(await countRows()).toBe(before);
    });

    it('refuses an unknown media id with 400 unknown-media and creates nothing', async () => {
      const before = await countRows();
      const missing = randomUUID();

      const res = await api().post('/api/v1/bulletins', { title: 'x', category: 'news', mediaId: missing }).expect(400);

      expect(res.body).toEqual({ error: 'unknown-media', message: `media ${missing} not found` });
      expect(await countRows()).toBe(before);
    });

    it('refuses an edit to an unknown media, a null title or a status, and leaves the bulletin unchanged', async () => {
      const approved = await anApprovedBulletin(t);
      const path = `/api/v1/bulletins/${approved.id}`;
      const before = (await api().get(path).expect(200)).body;

      expect((await api().patch(path, { mediaId: randomUUID() }).expect(400)).body.error).toBe('unknown-media');
      expect((await api().patch(path, { title: null }).expect(400)).body.error).toBe('validation');
      expect((await api().patch(path, { status: 'draft' }).expect(400)).body.error).toBe('validation');

      expect((await api().get(path).expect(200)).body).toEqual(before);
    });

    it('requires a rejection reason of at most 1000 characters', async () => {
      const submitted = await aSubmitted();
      const path = `/api/v1/bulletins/${submitted.id}/reject`;

      await api().post(path, {}).expect(400);
      await api().post(path, { reason: '  ' }).expect(400);
      await api().post(path, { reason: 'x'.repeat(1001) }).expect(400);

      expect((await api().get(`/api/v1/bulletins/${submitted.id}`).expect(200)).body.status).toBe('submitted');
    });
  });

  describe('listing', () => {
    it('filters by status, category and title, newest first', async () => {
      const tag = randomUUID().slice(0, 8);
      const draft = await aDraft({ title: `Bầu cử ${tag} đợt 1`, category: 'election' });
      const approved = await anApprovedBulletin(t, { title: `BẦU CỬ ${tag} đợt 2`, category: 'election' });
      await aDraft({ title: `Tiêm chủng ${tag}`, category: 'covid-19' });
      await aDraft({ title: `100%_${tag}`, category: 'news' });
      const list = async (qs: string) => (await api().get(`/api/v1/bulletins?${qs}`).expect(200)).body;

      const byTitle = await list(`q=${encodeURIComponent(`bầu cử ${tag}`)}`);
      const approvedElection = await list(`q=${tag}&status=approved&category=election`);
      const literal = await list(`q=${encodeURIComponent('%_')}${tag}`);
      const paged = await list(`q=${tag}&pageSize=2&page=1`);

      expect(byTitle.items.map((b: { id: string }) => b.id)).toEqual([approved.id, draft.id]);
      expect(approvedElection).toMatchObject({ total: 1, items: [{ id: approved.id, status: 'approved', media: { id: approved.mediaId } }] });
      expect(literal.total).toBe(1);
      expect(paged).toMatchObject({ total: 4, page: 1, pageSize: 2 });
      expect(paged.items).toHaveLength(2);
      await api().get('/api/v1/bulletins?status=published').expect(400);
    });
  });

  describe(BulletinsService.name, () => {
    const admin: Principal = { userId: randomUUID(), username: 'admin', role: 'admin', areaCode: null, areaPath: null };

    it('hands an approved bulletin to broadcasting with its media', async () => {
      const approved = await anApprovedBulletin(t, { durationMs: 2000 });

      const bulletin = await t.app.get(BulletinsService).requireBroadcastable(approved.id, admin);

      expect(bulletin).toMatchObject({ id: approved.id, status: 'approved', media: { id: approved.mediaId, durationMs: approved.durationMs } });
    });

    it('refuses a bulletin that is not approved, or not there', async () => {
      const submitted = await aSubmitted();
      const service = t.app.get(BulletinsService);
      const missing = randomUUID();

      const notApproved = await service.requireBroadcastable(submitted.id, admin).catch((e: unknown) => e);
      const notThere = await service.requireBroadcastable(missing, admin).catch((e: unknown) => e);

      expect(notApproved).toBeInstanceOf(ConflictException);
      expect((notApproved as ConflictException).getResponse()).toEqual({
        error: 'not-approved',
        message: `bulletin ${submitted.id} is submitted; only an approved bulletin can be broadcast`,
      });
      expect(notThere).toBeInstanceOf(NotFoundException);
      expect((notThere as NotFoundException).getResponse()).toEqual({ error: 'not-found', message: `bulletin ${missing} not found` });
    });
  });
});
