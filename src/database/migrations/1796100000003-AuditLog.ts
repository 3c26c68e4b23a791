import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AuditLog1796100000003 implements MigrationInterface {
  name = 'AuditLog1796100000003';

  public async up(_queryRunner: QueryRunner): Promise<void> {}

  public async down(_queryRunner: QueryRunner): Promise<void> {}
}
