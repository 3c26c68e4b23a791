import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Media, bulletins and broadcasts belong to an area (null: national, seen by admins only),
 * so a user bound to an area subtree sees and acts on its own. Existing media and bulletins
 * become national; an existing broadcast gets the deepest area holding all its targets.
 */
export class AreaScopes1796100000002 implements MigrationInterface {
  name = 'AreaScopes1796100000002';

  public async up(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['media', 'bulletins', 'broadcasts']) {
      await queryRunner.query(`ALTER TABLE "${table}" ADD "area_id" uuid`);
      await queryRunner.query(`CREATE INDEX "IDX_${table}_area_id" ON "${table}" ("area_id")`);
      await queryRunner.query(
        `ALTER TABLE "${table}" ADD CONSTRAINT "FK_${table}_area_id" FOREIGN KEY ("area_id") REFERENCES "areas"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
      );
    }
    // The deepest segment every target's path shares names the area: codes are unique, so
    // sharing a segment means sharing all above it.
    await queryRunner.query(`
      WITH target_paths AS (
        SELECT DISTINCT t.broadcast_id, COALESCE(ta.path, da.path) AS path
          FROM broadcast_targets t
          LEFT JOIN areas ta ON ta.id = t.area_id
          LEFT JOIN devices d ON d.id = t.device_id
          LEFT JOIN areas da ON da.id = d.area_id),
      counts AS (
        SELECT broadcast_id, count(*) AS paths FROM target_paths WHERE path IS NOT NULL GROUP BY broadcast_id),
      segments AS (
        SELECT tp.broadcast_id, s.code, s.n, count(*) AS paths
          FROM target_paths tp
          CROSS JOIN LATERAL unnest(string_to_array(trim(both '/' from tp.path), '/')) WITH ORDINALITY AS s(code, n)
         GROUP BY tp.broadcast_id, s.code, s.n),
      deepest AS (
        SELECT DISTINCT ON (s.broadcast_id) s.broadcast_id, s.code
          FROM segments s JOIN counts c ON c.broadcast_id = s.broadcast_id AND c.paths = s.paths
         ORDER BY s.broadcast_id, s.n DESC)
      UPDATE broadcasts b SET area_id = a.id
        FROM deepest dp JOIN areas a ON a.code = dp.code
       WHERE b.id = dp.broadcast_id`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['broadcasts', 'bulletins', 'media']) {
      await queryRunner.query(`ALTER TABLE "${table}" DROP CONSTRAINT "FK_${table}_area_id"`);
      await queryRunner.query(`DROP INDEX "public"."IDX_${table}_area_id"`);
      await queryRunner.query(`ALTER TABLE "${table}" DROP COLUMN "area_id"`);
    }
  }
}
