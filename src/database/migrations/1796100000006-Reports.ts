import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Reports1796100000006 implements MigrationInterface {
  name = 'Reports1796100000006';

  public async up(_queryRunner: QueryRunner): Promise<void> {}

  public async down(_queryRunner: QueryRunner): Promise<void> {}
}
