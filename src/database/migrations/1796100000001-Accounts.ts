import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Accounts1796100000001 implements MigrationInterface {
  name = 'Accounts1796100000001';

  public async up(_queryRunner: QueryRunner): Promise<void> {}

  public async down(_queryRunner: QueryRunner): Promise<void> {}
}
