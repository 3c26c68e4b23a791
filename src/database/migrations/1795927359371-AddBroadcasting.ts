import { MigrationInterface, QueryRunner } from "typeorm";

export class AddBroadcasting1795927359371 implements MigrationInterface {
    name = 'AddBroadcasting1795927359371'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "media" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "kind" character varying(8) NOT NULL, "title" character varying(200), "sha256" character(64), "bytes" bigint, "duration_ms" integer, "mime" character varying(64), "storage_key" character varying(200), "original_name" character varying(255), "stream_url" character varying(2000), "created_by_id" uuid, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_f4e0fcac36e050de337b670d8bd" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE TABLE "bulletins" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "title" character varying(200) NOT NULL, "category" character varying(32) NOT NULL, "media_id" uuid NOT NULL, "notes" text, "status" character varying(16) NOT NULL DEFAULT 'draft', "created_by_id" uuid, "submitted_by_id" uuid, "submitted_at" TIMESTAMP WITH TIME ZONE, "reviewed_by_id" uuid, "reviewed_at" TIMESTAMP WITH TIME ZONE, "rejection_reason" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_2a8a95dd56d5a3507074c35954e" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_bulletins_media_id" ON "bulletins"  ("media_id") `);
        await queryRunner.query(`CREATE INDEX "IDX_bulletins_status" ON "bulletins"  ("status") `);
        await queryRunner.query(`CREATE TABLE "broadcasts" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "bulletin_id" uuid NOT NULL, "media_id" uuid NOT NULL, "priority" character varying(16) NOT NULL, "volume" smallint, "schedule_kind" character varying(16) NOT NULL, "start_at" TIMESTAMP WITH TIME ZONE NOT NULL, "rrule" text, "until" TIMESTAMP WITH TIME ZONE, "timezone" character varying(64) NOT NULL, "duration_ms" integer NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE, "state" character varying(16) NOT NULL DEFAULT 'active', "materialised_until" TIMESTAMP WITH TIME ZONE, "target_area_codes" text array NOT NULL DEFAULT '{}', "target_device_codes" text array NOT NULL DEFAULT '{}', "created_by_id" uuid, "cancelled_by_id" uuid, "cancelled_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_b0586900034d0726bbdcb1b21b2" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_broadcasts_bulletin_id" ON "broadcasts"  ("bulletin_id") `);
        await queryRunner.query(`CREATE INDEX "IDX_broadcasts_state" ON "broadcasts"  ("state") `);
        await queryRunner.query(`CREATE TABLE "broadcast_targets" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "broadcast_id" uuid NOT NULL, "area_id" uuid, "device_id" uuid, CONSTRAINT "PK_1f49ab0f8107dfd7c07420130cb" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_broadcast_targets_broadcast_id" ON "broadcast_targets"  ("broadcast_id") `);
        await queryRunner.query(`CREATE INDEX "IDX_broadcast_targets_area_id" ON "broadcast_targets"  ("area_id") `);
        await queryRunner.query(`CREATE INDEX "IDX_broadcast_targets_device_id" ON "broadcast_targets"  ("device_id") `);
        await queryRunner.query(`CREATE TABLE "occurrences" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "broadcast_id" uuid NOT NULL, "start_at" TIMESTAMP WITH TIME ZONE NOT NULL, "end_at" TIMESTAMP WITH TIME ZONE NOT NULL, "command_id" uuid, "cancelled_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_04fa3cf0bb8ea79b707dbfabe0a" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_occurrences_start_at" ON "occurrences"  ("start_at") `);
        await queryRunner.query(`CREATE UNIQUE INDEX "UQ_occurrences_command_id" ON "occurrences"  ("command_id") WHERE command_id IS NOT NULL`);
        await queryRunner.query(`CREATE UNIQUE INDEX "UQ_occurrences_broadcast_start" ON "occurrences"  ("broadcast_id", "start_at") `);
        await queryRunner.query(`CREATE TABLE "deliveries" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "occurrence_id" uuid NOT NULL, "device_id" uuid NOT NULL, "status" character varying(16) NOT NULL DEFAULT 'pending', "schedule_version" integer, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "delivered_at" TIMESTAMP WITH TIME ZONE, "started_at" TIMESTAMP WITH TIME ZONE, "ended_at" TIMESTAMP WITH TIME ZONE, "reason" text, CONSTRAINT "UQ_deliveries_occurrence_device" UNIQUE ("occurrence_id", "device_id"), CONSTRAINT "PK_a6ef225c5c5f0974e503bfb731f" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_deliveries_device_status" ON "deliveries"  ("device_id", "status") `);
        await queryRunner.query(`CREATE TABLE "playback_events" ("id" uuid NOT NULL, "device_id" uuid NOT NULL, "occurrence_id" uuid NOT NULL, "type" character varying(16) NOT NULL, "at" TIMESTAMP WITH TIME ZONE NOT NULL, "reason" text, "received_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_7202c738fcc44627b087aa213e5" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_playback_events_occurrence_device" ON "playback_events"  ("occurrence_id", "device_id") `);
        await queryRunner.query(`CREATE TABLE "device_commands" ("id" uuid NOT NULL, "device_id" uuid NOT NULL, "type" character varying(16) NOT NULL, "payload" jsonb NOT NULL, "status" character varying(16) NOT NULL DEFAULT 'pending', "attempts" integer NOT NULL DEFAULT '0', "issued_at" TIMESTAMP WITH TIME ZONE NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "last_sent_at" TIMESTAMP WITH TIME ZONE, "acked_at" TIMESTAMP WITH TIME ZONE, "error" text, "issued_by_id" uuid, CONSTRAINT "PK_08a3f976a83bbf1754fbf4088c7" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "IDX_device_commands_device_status" ON "device_commands"  ("device_id", "status") `);
        await queryRunner.query(`ALTER TABLE "devices" ADD "schedule_version" integer NOT NULL DEFAULT '0'`);
        await queryRunner.query(`ALTER TABLE "bulletins" ADD CONSTRAINT "FK_4db65a7404a57586f40de59d4c3" FOREIGN KEY ("media_id") REFERENCES "media"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "broadcasts" ADD CONSTRAINT "FK_e07f7d139fbd2df1b03b2e4e922" FOREIGN KEY ("bulletin_id") REFERENCES "bulletins"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "broadcasts" ADD CONSTRAINT "FK_1141d12f42dddf5cf7c6c96bffc" FOREIGN KEY ("media_id") REFERENCES "media"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "broadcast_targets" ADD CONSTRAINT "FK_6de9c4d7ad0bdd373c22a0a4fce" FOREIGN KEY ("broadcast_id") REFERENCES "broadcasts"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "broadcast_targets" ADD CONSTRAINT "FK_37cea60976c9c085a9a2453757b" FOREIGN KEY ("area_id") REFERENCES "areas"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "broadcast_targets" ADD CONSTRAINT "FK_7d6a1a5811336fe76156056bb06" FOREIGN KEY ("device_id") REFERENCES "devices"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "occurrences" ADD CONSTRAINT "FK_f5c2dba4c916d97cc141e596f77" FOREIGN KEY ("broadcast_id") REFERENCES "broadcasts"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "deliveries" ADD CONSTRAINT "FK_594873dd3dd725feceef17ee784" FOREIGN KEY ("occurrence_id") REFERENCES "occurrences"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "deliveries" ADD CONSTRAINT "FK_52f5e5d39158e91221b50294562" FOREIGN KEY ("device_id") REFERENCES "devices"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "device_commands" ADD CONSTRAINT "FK_ec7250b29b943067213ca5677dd" FOREIGN KEY ("device_id") REFERENCES "devices"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "device_commands" DROP CONSTRAINT "FK_ec7250b29b943067213ca5677dd"`);
        await queryRunner.query(`ALTER TABLE "deliveries" DROP CONSTRAINT "FK_52f5e5d39158e91221b50294562"`);
        await queryRunner.query(`ALTER TABLE "deliveries" DROP CONSTRAINT "FK_594873dd3dd725feceef17ee784"`);
        await queryRunner.query(`ALTER TABLE "occurrences" DROP CONSTRAINT "FK_f5c2dba4c916d97cc141e596f77"`);
        await queryRunner.query(`ALTER TABLE "broadcast_targets" DROP CONSTRAINT "FK_7d6a1a5811336fe76156056bb06"`);
        await queryRunner.query(`ALTER TABLE "broadcast_targets" DROP CONSTRAINT "FK_37cea60976c9c085a9a2453757b"`);
        await queryRunner.query(`ALTER TABLE "broadcast_targets" DROP CONSTRAINT "FK_6de9c4d7ad0bdd373c22a0a4fce"`);
        await queryRunner.query(`ALTER TABLE "broadcasts" DROP CONSTRAINT "FK_1141d12f42dddf5cf7c6c96bffc"`);
        await queryRunner.query(`ALTER TABLE "broadcasts" DROP CONSTRAINT "FK_e07f7d139fbd2df1b03b2e4e922"`);
        await queryRunner.query(`ALTER TABLE "bulletins" DROP CONSTRAINT "FK_4db65a7404a57586f40de59d4c3"`);
        await queryRunner.query(`ALTER TABLE "devices" DROP COLUMN "schedule_version"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_device_commands_device_status"`);
        await queryRunner.query(`DROP TABLE "device_commands"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_playback_events_occurrence_device"`);
        await queryRunner.query(`DROP TABLE "playback_events"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_deliveries_device_status"`);
        await queryRunner.query(`DROP TABLE "deliveries"`);
        await queryRunner.query(`DROP INDEX "public"."UQ_occurrences_broadcast_start"`);
        await queryRunner.query(`DROP INDEX "public"."UQ_occurrences_command_id"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_occurrences_start_at"`);
        await queryRunner.query(`DROP TABLE "occurrences"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_broadcast_targets_device_id"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_broadcast_targets_area_id"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_broadcast_targets_broadcast_id"`);
        await queryRunner.query(`DROP TABLE "broadcast_targets"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_broadcasts_state"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_broadcasts_bulletin_id"`);
        await queryRunner.query(`DROP TABLE "broadcasts"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_bulletins_status"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_bulletins_media_id"`);
        await queryRunner.query(`DROP TABLE "bulletins"`);
        await queryRunner.query(`DROP TABLE "media"`);
    }

}
