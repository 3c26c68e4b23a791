import { BadRequestException, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { areaCodesOfPath } from '../areas/area.entity.js';
import type { Principal } from '../auth/principal.js';
import { scopeLikePattern } from '../auth/scope.js';

/** A target with the path of its area (a device: the area it is in). */
interface ResolvedTarget {
  id: string;
  code: string;
  path: string;
}

export interface ResolvedTargets {
  areas: ResolvedTarget[];
  devices: ResolvedTarget[];
}

/**
 * The devices a broadcast plays on, as SQL over its targets: every active device whose
 * area path starts with a target area's path, plus each targeted device. Evaluated when
 * occurrences are planned, so devices added to an area later are included too.
 * `starts_with` rather than LIKE: area codes may contain `_`, a LIKE wildcard.
 */
export const TARGET_DEVICES_SQL = (broadcastParam: string) => `
  SELECT d.id FROM devices d JOIN areas a ON a.id = d.area_id
  WHERE d.decommissioned_at IS NULL AND (
    EXISTS (SELECT 1 FROM broadcast_targets t JOIN areas ta ON ta.id = t.area_id
            WHERE t.broadcast_id = ${broadcastParam} AND starts_with(a.path, ta.path))
    OR d.id IN (SELECT t.device_id FROM broadcast_targets t WHERE t.broadcast_id = ${broadcastParam} AND t.device_id IS NOT NULL))`;

@Injectable()
export class BroadcastTargets {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Turns the caller's codes into rows, refusing the request if any code is unknown; a
   * target outside the caller's area is reported exactly as an unknown one.
   */
  async resolve(areaCodes: string[], deviceCodes: string[], principal: Principal): Promise<ResolvedTargets> {
    const uniqueAreas = [...new Set(areaCodes)];
    const uniqueDevices = [...new Set(deviceCodes)];
    if (!uniqueAreas.length && !uniqueDevices.length) {
      throw new BadRequestException({ error: 'validation', message: 'targets needs at least one area code or device code' });
    }
    const scope = scopeLikePattern(principal);
    const [areas, devices] = await Promise.all([
      this.db.query<ResolvedTarget[]>(
        `SELECT id, code, path FROM areas WHERE code = ANY($1) AND ($2::text IS NULL OR path LIKE $2)`,
        [uniqueAreas, scope],
      ),
      this.db.query<ResolvedTarget[]>(
        `SELECT d.id, d.code, a.path FROM devices d JOIN areas a ON a.id = d.area_id
         WHERE d.code = ANY($1) AND d.decommissioned_at IS NULL AND ($2::text IS NULL OR a.path LIKE $2)`,
        [uniqueDevices, scope],
      ),
    ]);
    const unknownAreas = uniqueAreas.filter((code) => !areas.some((a) => a.code === code));
    const unknownDevices = uniqueDevices.filter((code) => !devices.some((d) => d.code === code));
    if (unknownAreas.length || unknownDevices.length) {
      throw new BadRequestException({
        error: 'unknown-targets',
        message: [
          unknownAreas.length ? `unknown area(s): ${unknownAreas.slice(0, 20).join(', ')}` : '',
          unknownDevices.length ? `unknown or decommissioned device(s): ${unknownDevices.slice(0, 20).join(', ')}` : '',
        ].filter(Boolean).join('; '),
        unknownAreaCodes: unknownAreas,
        unknownDeviceCodes: unknownDevices,
      });
    }
    return { areas, devices };
  }

  /**
   * The deepest area holding every target, which the broadcast belongs to: the longest
   * common run of codes of their paths. Null when the targets span provinces (national).
   */
  async owningArea(targets: ResolvedTargets): Promise<{ id: string; code: string } | null> {
    const paths = [...targets.areas, ...targets.devices].map((t) => areaCodesOfPath(t.path));
    const common = paths.reduce((shared, codes) => shared.slice(0, commonLength(shared, codes)));
    if (!common.length) return null;
    const [area] = await this.db.query<{ id: string; code: string }[]>(`SELECT id, code FROM areas WHERE code = $1`, [common.at(-1)]);
    return area ?? null;
  }

  async save(em: EntityManager, broadcastId: string, targets: ResolvedTargets): Promise<void> {
    const areaIds = targets.areas.map((a) => a.id);
    const deviceIds = targets.devices.map((d) => d.id);
    await em.query(
      `INSERT INTO broadcast_targets (broadcast_id, area_id, device_id)
       SELECT $1::uuid, a, NULL::uuid FROM unnest($2::uuid[]) a
       UNION ALL SELECT $1::uuid, NULL::uuid, d FROM unnest($3::uuid[]) d`,
      [broadcastId, areaIds, deviceIds],
    );
  }

  async countDevices(em: EntityManager | DataSource, broadcastId: string): Promise<number> {
    const [row] = await em.query<{ n: string }[]>(`SELECT count(*) AS n FROM (${TARGET_DEVICES_SQL('$1')}) td`, [broadcastId]);
    return Number(row.n);
  }
}

function commonLength(a: string[], b: string[]): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}
