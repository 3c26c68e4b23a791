import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AreaScopes1796100000002 implements MigrationInterface {
  name = 'AreaScopes1796100000002';

  public async up(_queryRunner: QueryRunner): Promise<void> {}

  public async down(_queryRunner: QueryRunner): Promise<void> {}
}
