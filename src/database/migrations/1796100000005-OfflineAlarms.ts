import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Offline alarms, their per-area thresholds, and alarm webhooks with their delivery log.
 * At most one open alarm per device: a partial unique index, so two sweeps racing cannot
 * open two.
 */
export class OfflineAlarms1796100000005 implements MigrationInterface {
  name = 'OfflineAlarms1796100000005';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "alarm_thresholds" ("area_id" uuid NOT NULL, "offline_after_s" integer NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_alarm_thresholds" PRIMARY KEY ("area_id"), CONSTRAINT "CHK_alarm_thresholds_positive" CHECK ("offline_after_s" > 0))`);
    await queryRunner.query(`ALTER TABLE "alarm_thresholds" ADD CONSTRAINT "FK_alarm_thresholds_area" FOREIGN KEY ("area_id") REFERENCES "areas"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);

    await queryRunner.query(`CREATE TABLE "alarms" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "device_id" uuid NOT NULL, "offline_since" TIMESTAMP WITH TIME ZONE NOT NULL, "opened_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "returned_at" TIMESTAMP WITH TIME ZONE, "cleared_at" TIMESTAMP WITH TIME ZONE, "flaps" integer NOT NULL DEFAULT 0, "state_seq" bigint NOT NULL, "acknowledged_at" TIMESTAMP WITH TIME ZONE, "acknowledged_by_id" uuid, "acknowledged_by" character varying(64), "note" text, CONSTRAINT "PK_alarms" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_alarms_open_device" ON "alarms" ("device_id") WHERE cleared_at IS NULL`);
    await queryRunner.query(`CREATE INDEX "IDX_alarms_device_opened_at" ON "alarms" ("device_id", "opened_at")`);
    await queryRunner.query(`CREATE INDEX "IDX_alarms_opened_at" ON "alarms" ("opened_at")`);
    await queryRunner.query(`ALTER TABLE "alarms" ADD CONSTRAINT "FK_alarms_device" FOREIGN KEY ("device_id") REFERENCES "devices"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "alarms" ADD CONSTRAINT "FK_alarms_acknowledged_by" FOREIGN KEY ("acknowledged_by_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE NO ACTION`);

    await queryRunner.query(`CREATE TABLE "webhooks" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "url" character varying(2000) NOT NULL, "secret" character varying(128) NOT NULL, "events" text array NOT NULL, "area_id" uuid, "enabled" boolean NOT NULL DEFAULT true, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_webhooks" PRIMARY KEY ("id"))`);
    await queryRunner.query(`ALTER TABLE "webhooks" ADD CONSTRAINT "FK_webhooks_area" FOREIGN KEY ("area_id") REFERENCES "areas"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`);

    await queryRunner.query(`CREATE TABLE "webhook_deliveries" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "webhook_id" uuid NOT NULL, "event_id" uuid NOT NULL, "event_type" character varying(32) NOT NULL, "alarm_id" uuid, "body" text NOT NULL, "status" character varying(16) NOT NULL DEFAULT 'pending', "attempts" integer NOT NULL DEFAULT 0, "last_status" integer, "last_error" text, "last_attempt_at" TIMESTAMP WITH TIME ZONE, "delivered_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_webhook_deliveries" PRIMARY KEY ("id"), CONSTRAINT "UQ_webhook_deliveries_webhook_event" UNIQUE ("webhook_id", "event_id"))`);
    await queryRunner.query(`CREATE INDEX "IDX_webhook_deliveries_webhook_created" ON "webhook_deliveries" ("webhook_id", "created_at")`);
    await queryRunner.query(`CREATE INDEX "IDX_webhook_deliveries_pending" ON "webhook_deliveries" ("created_at") WHERE status = 'pending'`);
    await queryRunner.query(`ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "FK_webhook_deliveries_webhook" FOREIGN KEY ("webhook_id") REFERENCES "webhooks"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "FK_webhook_deliveries_alarm" FOREIGN KEY ("alarm_id") REFERENCES "alarms"("id") ON DELETE SET NULL ON UPDATE NO ACTION`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "webhook_deliveries"`);
    await queryRunner.query(`DROP TABLE "webhooks"`);
    await queryRunner.query(`DROP TABLE "alarms"`);
    await queryRunner.query(`DROP TABLE "alarm_thresholds"`);
  }
}
