import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { MediaService } from '../src/media/media.service.js';
import { MediaUrlSigner } from '../src/media/media-url-signer.js';
import { aWav, uploadAudio } from './support/media.js';
import { eventually, startTestApp, type TestApp } from './support/test-app.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/audio/${name}`, import.meta.url));
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d6a4f00000000049454e44ae426082', 'hex');

/** Every file under MEDIA_DIR, uploads in progress included. */
async function filesIn(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

async function mediaRows(t: TestApp): Promise<number> {
  const [{ count }] = await t.app.get(DataSource).query('SELECT count(*)::int AS count FROM media');
  return count;
}

describe('media', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  const upload = (bytes: Buffer, filename: string, contentType?: string) =>
    t.http().post('/api/v1/media').set('Authorization', t.auth).attach('file', bytes, contentType ? { filename, contentType } : filename);
  const download = (path: string, headers: Record<string, string> = {}) => fetch(`${t.apiUrl}${path}`, { headers });
  const bytesOf = async (res: Response) => Buffer.from(await res.arrayBuffer());

  describe('uploading audio', () => {
    it('stores a WAV and reports its hash, size, duration and type', async () => {
      const wav = aWav(2000);

      const res = await upload(wav, 'Thông báo.wav').field('title', '  Thông báo tiêm chủng  ').expect(201);
      const read = await t.http().get(`/api/v1/media/${res.body.id}`).set('Authorization', t.auth).expect(200);

      expect(res.body).toEqual({
        id: expect.any(String),
        kind: 'file',
        title: 'Thông báo tiêm chủng',
        sha256: sha256(wav),
        bytes: wav.length,
        durationMs: expect.any(Number),
        mime: 'audio/wav',
        areaCode: null,
        createdAt: expect.any(String),
      });
      expect(Math.abs(res.body.durationMs - 2000)).toBeLessThanOrEqual(50);
      expect(read.body).toEqual(res.body);
    });

    it('titles an upload after its file name when no title is given', async () => {
      const res = await upload(aWav(500), 'bản tin sáng.wav').expect(201);

      expect(res.body.title).toBe('bản tin sáng');
    });

    it.each([
      ['tone-1500ms.mp3', 'audio/mpeg'],
      ['tone-1500ms.opus.ogg', 'audio/ogg'],
      ['tone-1500ms.vorbis.ogg', 'audio/ogg'],
      ['tone-1500ms.m4a', 'audio/mp4'],
    ])('recognises %s as %s by its content, whatever it is called', async (name, mime) => {
      const audio = fixture(name);

      const res = await upload(audio, 'upload.bin', 'application/octet-stream').expect(201);

      expect(res.body).toMatchObject({ mime, bytes: audio.length, sha256: sha256(audio) });
      expect(Math.abs(res.body.durationMs - 1500)).toBeLessThanOrEqual(100);
    });

    it('refuses what is not audio, whatever its name and declared type', async () => {
      const before = await mediaRows(t);

      const png = await upload(PNG, 'song.mp3', 'audio/mpeg').expect(415);
      const text = await upload(Buffer.from('xin chào, đây không phải âm thanh\n'.repeat(20)), 'speech.wav', 'audio/wav').expect(415);

      expect(png.body).toMatchObject({ error: 'unsupported-media', message: expect.any(String) });
      expect(text.body).toMatchObject({ error: 'unsupported-media' });
      expect(await mediaRows(t)).toBe(before);
      expect(await filesIn(join(t.config.MEDIA_DIR, '.incoming'))).toEqual([]);
    });

    it.each([
      ['a WAV cut in half', () => aWav(2000).subarray(0, 8000)],
      ['a WAV with a header and no samples', () => aWav(2000).subarray(0, 44)],
      ['a constant-bitrate MP3 cut in half', () => fixture('tone-1500ms.mp3').subarray(0, 3200)],
      ['an Ogg Opus file cut in half', () => fixture('tone-1500ms.opus.ogg').subarray(0, 1700)],
      ['an Ogg Vorbis file cut in half', () => fixture('tone-1500ms.vorbis.ogg').subarray(0, 2300)],
      ['an M4A file cut in half', () => fixture('tone-1500ms.m4a').subarray(0, 3700)],
    ])('refuses %s', async (_what, truncated) => {
      const res = await upload(truncated(), 'cut.bin').expect(415);

      expect(res.body.error).toBe('unsupported-media');
    });

    it('asks for the file field', async () => {
      const res = await t.http().post('/api/v1/media').set('Authorization', t.auth).field('title', 'no file').expect(400);

      expect(res.body.error).toBe('validation');
    });

    it('refuses a title over 200 characters and drops the received file', async () => {
      const before = await mediaRows(t);

      const res = await upload(aWav(500), 'a.wav').field('title', 'x'.repeat(201)).expect(400);

      expect(res.body.error).toBe('validation');
      await eventually(async () => (await filesIn(join(t.config.MEDIA_DIR, '.incoming'))).length === 0);
      expect(await mediaRows(t)).toBe(before);
    });

    it('leaves nothing behind when the upload is cut off mid-body', async () => {
      const before = await mediaRows(t);
      const stored = await filesIn(t.config.MEDIA_DIR);
      const boundary = 'loa-test-boundary';
      const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="cut.wav"\r\nContent-Type: audio/wav\r\n\r\n`;
      const socket = tcpConnect(Number(new URL(t.apiUrl).port), '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));

      socket.write(
        `POST /api/v1/media HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${t.auth}\r\n` +
          `Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: 100000\r\n\r\n`,
      );
      socket.write(head);
      socket.write(aWav(2000).subarray(0, 6000));
      await eventually(async () => (await filesIn(join(t.config.MEDIA_DIR, '.incoming'))).length === 1);
      socket.end();

      await eventually(async () => (await filesIn(t.config.MEDIA_DIR)).length === stored.length);
      socket.destroy();
      expect(await filesIn(t.config.MEDIA_DIR)).toEqual(stored);
      expect(await mediaRows(t)).toBe(before);
    });

    it('asks for a JWT', async () => {
      await t.http().post('/api/v1/media').attach('file', aWav(500), 'a.wav').expect(401);
    });
  });

  describe('streams', () => {
    const createStream = (body: object) => t.http().post('/api/v1/media/streams').set('Authorization', t.auth).send(body);

    it('registers http(s), rtsp and rtmp sources', async () => {
      const https = await createStream({ title: 'VOV1', url: 'https://stream.example.vn/vov1.mp3' }).expect(201);
      await createStream({ title: 'Camera xã', url: 'rtsp://10.0.0.5:554/live' }).expect(201);
      await createStream({ title: 'Đài huyện', url: 'rtmp://radio.local/live/stream' }).expect(201);

      expect(https.body).toEqual({
        id: expect.any(String),
        kind: 'stream',
        title: 'VOV1',
        streamUrl: 'https://stream.example.vn/vov1.mp3',
        areaCode: null,
        createdAt: expect.any(String),
      });
    });

    it.each([
      ['a relative URL', { title: 'x', url: '/live/vov1' }],
      ['another scheme', { title: 'x', url: 'ftp://example.vn/a.mp3' }],
      ['no URL', { title: 'x' }],
      ['no title', { url: 'https://example.vn/a.mp3' }],
    ])('refuses %s', async (_what, body) => {
      const res = await createStream(body).expect(400);

      expect(res.body.error).toBe('validation');
    });

    it('has no content to download', async () => {
      const stream = await createStream({ title: 'VOV2', url: 'http://stream.example.vn/vov2' }).expect(201);

      const res = await download(`/api/v1/media/${stream.body.id}/content`, { Authorization: t.auth });

      expect(res.status).toBe(404);
    });
  });

  describe('reading the library', () => {
    it('lists media newest first, filtered by kind', async () => {
      const audio = await uploadAudio(t, { title: 'newest file' });

      const all = await t.http().get('/api/v1/media?pageSize=1').set('Authorization', t.auth).expect(200);
      const streams = await t.http().get('/api/v1/media?kind=stream').set('Authorization', t.auth).expect(200);

      expect(all.body).toMatchObject({ page: 1, pageSize: 1, total: await mediaRows(t), items: [{ id: audio.id }] });
      expect(streams.body.items.length).toBeGreaterThan(0);
      expect(streams.body.items.every((m: { kind: string }) => m.kind === 'stream')).toBe(true);
    });

    it('answers 404 for an unknown id, 400 for a malformed one, 401 without a JWT', async () => {
      const audio = await uploadAudio(t);

      await t.http().get('/api/v1/media/6d1f2b8e-31a4-4c1e-9d7b-3f0a5e2c9b10').set('Authorization', t.auth).expect(404);
      await t.http().get('/api/v1/media/not-a-uuid').set('Authorization', t.auth).expect(400);
      await t.http().get(`/api/v1/media/${audio.id}`).expect(401);
      await t.http().get('/api/v1/media').expect(401);
    });
  });

  describe('downloading', () => {
    it('serves the bytes to an operator with their type, length and hash as ETag', async () => {
      const wav = aWav(1000);
      const { body } = await upload(wav, 'a.wav').expect(201);

      const res = await download(`/api/v1/media/${body.id}/content`, { Authorization: t.auth });

      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('audio/wav');
      expect(res.headers.get('content-length')).toBe(String(wav.length));
      expect(res.headers.get('etag')).toBe(`"${sha256(wav)}"`);
      expect(res.headers.get('accept-ranges')).toBe('bytes');
      expect((await bytesOf(res)).equals(wav)).toBe(true);
    });

    it('serves the URL a device is sent, without any other credential', async () => {
      const audio = await uploadAudio(t);
      const media = t.app.get(MediaService);

      const payload = media.devicePayload(await media.findForBroadcast(audio.id));
      const res = await fetch((payload as { url: string }).url);

      expect(payload).toEqual({ url: expect.any(String), sha256: audio.sha256, bytes: audio.bytes, durationMs: audio.durationMs, mime: 'audio/wav' });
      expect(res.status).toBe(200);
      expect(sha256(await bytesOf(res))).toBe(audio.sha256);
    });

    it('serves a byte range, and 416 past the end', async () => {
      const wav = aWav(1000);
      const { body } = await upload(wav, 'a.wav').expect(201);

      const part = await download(`/api/v1/media/${body.id}/content`, { Authorization: t.auth, Range: 'bytes=10-19' });
      const beyond = await download(`/api/v1/media/${body.id}/content`, { Authorization: t.auth, Range: `bytes=${wav.length}-` });

      expect(part.status).toBe(206);
      expect(part.headers.get('content-range')).toBe(`bytes 10-19/${wav.length}`);
      expect(part.headers.get('content-length')).toBe('10');
      expect((await bytesOf(part)).equals(wav.subarray(10, 20))).toBe(true);
      expect(beyond.status).toBe(416);
      expect(beyond.headers.get('content-range')).toBe(`bytes */${wav.length}`);
    });

    it('refuses an expired, forged, malformed or borrowed token with 403, and no credential with 401', async () => {
      const [audio, other] = [await uploadAudio(t), await uploadAudio(t)];
      const signer = t.app.get(MediaUrlSigner);
      const inAnHour = new Date(Date.now() + 3600_000);
      const valid = signer.sign(audio.id, inAnHour);
      const forged = `${valid.slice(0, -2)}${valid.endsWith('AA') ? 'BB' : 'AA'}`;
      const content = (token?: string) => download(`/api/v1/media/${audio.id}/content${token === undefined ? '' : `?token=${encodeURIComponent(token)}`}`);

      const statuses = {
        valid: (await content(valid)).status,
        expired: (await content(signer.sign(audio.id, new Date(Date.now() - 1000)))).status,
        otherMedia: (await content(signer.sign(other.id, inAnHour))).status,
        forged: (await content(forged)).status,
        malformed: (await content('not-a-token')).status,
        none: (await content()).status,
      };
      const refused = await content('not-a-token');

      expect(statuses).toEqual({ valid: 200, expired: 403, otherMedia: 403, forged: 403, malformed: 403, none: 401 });
      expect(await refused.json()).toMatchObject({ error: 'forbidden' });
    });
  });

  describe('the media payload sent to devices', () => {
    it('names a file by a URL valid at least MEDIA_TOKEN_TTL_S, stable within the hour', async () => {
      const audio = await uploadAudio(t);
      const media = t.app.get(MediaService);
      const row = await media.findForBroadcast(audio.id);
      const now = new Date('2026-03-01T08:10:00Z');

      const first = media.devicePayload(row, now) as { url: string };
      const later = media.devicePayload(row, new Date('2026-03-01T08:55:00Z')) as { url: string };
      const exp = Number(new URL(first.url).searchParams.get('token')!.split('.')[0]);

      expect(first.url.startsWith(`${t.config.PUBLIC_URL}/api/v1/media/${audio.id}/content?token=`)).toBe(true);
      expect(later.url).toBe(first.url);
      expect(exp % 3600).toBe(0);
      expect(exp * 1000 - now.getTime()).toBeGreaterThanOrEqual(t.config.MEDIA_TOKEN_TTL_S * 1000);
    });

    it('names a stream by its URL', async () => {
      const stream = await t.http().post('/api/v1/media/streams').set('Authorization', t.auth).send({ title: 'VOV3', url: 'https://s.example.vn/vov3' }).expect(201);
      const media = t.app.get(MediaService);

      expect(media.devicePayload(await media.findForBroadcast(stream.body.id))).toEqual({ streamUrl: 'https://s.example.vn/vov3' });
      await expect(media.findForBroadcast('6d1f2b8e-31a4-4c1e-9d7b-3f0a5e2c9b10')).rejects.toMatchObject({ status: 404 });
    });
  });
});

describe('media size limit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ MEDIA_MAX_BYTES: '4096' });
  });
  afterAll(() => t.close());

  it('refuses a file over MEDIA_MAX_BYTES with 413 and keeps nothing of it', async () => {
    const res = await t.http().post('/api/v1/media').set('Authorization', t.auth).attach('file', aWav(2000), 'big.wav').expect(413);

    expect(res.body).toMatchObject({ error: 'too-large' });
    expect(await filesIn(t.config.MEDIA_DIR)).toEqual([]);
    expect(await mediaRows(t)).toBe(0);
  });

  it('accepts a file just under the limit', async () => {
    const wav = aWav(500);

    const res = await t.http().post('/api/v1/media').set('Authorization', t.auth).attach('file', wav, 'small.wav').expect(201);

    expect(wav.length).toBeLessThanOrEqual(4096);
    expect(res.body.bytes).toBe(wav.length);
  });
});
