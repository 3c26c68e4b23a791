import { uploadAudio } from './media.js';
import type { TestApp } from './test-app.js';

/** Uploads audio, then creates, submits and approves a bulletin of it through the API. */
export async function anApprovedBulletin(
  t: TestApp,
  opts: { durationMs?: number; category?: string; title?: string } = {},
): Promise<{ id: string; mediaId: string; durationMs: number }> {
  const title = opts.title ?? 'Thông báo lịch tiêm chủng';
  const media = await uploadAudio(t, { durationMs: opts.durationMs, title });
  const post = async (path: string, body: object = {}, status = 200) => {
    const res = await t.http().post(path).set('Authorization', t.auth).send(body);
    if (res.status !== status) throw new Error(`anApprovedBulletin: POST ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as { id: string };
  };
  const { id } = await post('/api/v1/bulletins', { title, category: opts.category ?? 'news', mediaId: media.id }, 201);
  await post(`/api/v1/bulletins/${id}/submit`);
  await post(`/api/v1/bulletins/${id}/approve`);
  return { id, mediaId: media.id, durationMs: media.durationMs };
}
