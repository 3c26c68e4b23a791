import type { MigrationInterface, QueryRunner } from 'typeorm';

export class LiveEvents1796100000004 implements MigrationInterface {
  name = 'LiveEvents1796100000004';

  public async up(_queryRunner: QueryRunner): Promise<void> {}

  public async down(_queryRunner: QueryRunner): Promise<void> {}
}
