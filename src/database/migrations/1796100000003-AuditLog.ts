import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AuditLog1796100000003 implements MigrationInterface {
  name = 'AuditLog1796100000003';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "audit_log" (
      "id" bigserial NOT NULL,
      "at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
      "user_id" uuid,
      "username" character varying(64),
      "role" character varying(16),
      "method" character varying(8) NOT NULL,
      "route" character varying(200) NOT NULL,
      "action" character varying(100) NOT NULL,
      "resource_type" character varying(40),
      "resource_id" character varying(100),
      "status_code" smallint NOT NULL,
      "outcome" character varying(8) NOT NULL,
      "before" jsonb,
      "after" jsonb,
      "ip" character varying(64),
      "user_agent" character varying(200),
      CONSTRAINT "PK_audit_log" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "IDX_audit_log_at" ON "audit_log" ("at")`);
    await queryRunner.query(`CREATE INDEX "IDX_audit_log_resource" ON "audit_log" ("resource_type", "resource_id")`);
    await queryRunner.query(`CREATE INDEX "IDX_audit_log_username_at" ON "audit_log" ("username", "at")`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "audit_log"`);
  }
}
