import { randomBytes } from 'node:crypto';
import { AREA_LEVELS, PARENT_LEVEL, type AreaLevel } from '../../src/areas/area.entity.js';
import type { TestApp } from './test-app.js';

export interface AreaBody {
  code: string;
  name: string;
  level: AreaLevel;
  parentCode: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A code no other test uses: letters keep it clear of the digit-only GSO codes of imports. */
export function uniqueAreaCode(level: AreaLevel = 'province'): string {
  return `${level[0]}${randomBytes(5).toString('hex')}`;
}

/**
 * Creates an area through the API and returns its body. Without `level` it is a province,
 * or one level below `parentCode`.
 */
export async function anArea(
  t: TestApp,
  opts: { code?: string; name?: string; level?: AreaLevel; parentCode?: string } = {},
): Promise<AreaBody> {
  const level = opts.level ?? (opts.parentCode ? await childLevelOf(t, opts.parentCode) : 'province');
  const code = opts.code ?? uniqueAreaCode(level);
  const res = await t
    .http()
    .post('/api/v1/areas')
    .set('Authorization', t.auth)
    .send({ code, name: opts.name ?? `Test ${level} ${code}`, level, parentCode: opts.parentCode });
  if (res.status !== 201) throw new Error(`anArea(${code}): ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as AreaBody;
}

/** A fresh province › district › commune; returns their codes. */
export async function anAreaTree(t: TestApp): Promise<{ province: string; district: string; commune: string }> {
  const province = await anArea(t);
  const district = await anArea(t, { parentCode: province.code });
  const commune = await anArea(t, { parentCode: district.code });
  return { province: province.code, district: district.code, commune: commune.code };
}

async function childLevelOf(t: TestApp, parentCode: string): Promise<AreaLevel> {
  const res = await t.http().get(`/api/v1/areas/${encodeURIComponent(parentCode)}`).set('Authorization', t.auth);
  if (res.status !== 200) throw new Error(`anArea: parent ${parentCode}: ${res.status} ${JSON.stringify(res.body)}`);
  const parentLevel = (res.body as AreaBody).level;
  const level = AREA_LEVELS.find((l) => PARENT_LEVEL[l] === parentLevel);
  if (!level) throw new Error(`anArea: a ${parentLevel} cannot have children`);
  return level;
}
