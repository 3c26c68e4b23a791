import type { MigrationInterface, QueryRunner } from 'typeorm';

export class OfflineAlarms1796100000005 implements MigrationInterface {
  name = 'OfflineAlarms1796100000005';

  public async up(_queryRunner: QueryRunner): Promise<void> {}

  public async down(_queryRunner: QueryRunner): Promise<void> {}
}
