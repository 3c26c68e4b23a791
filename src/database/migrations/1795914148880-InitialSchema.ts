import { MigrationInterface, QueryRunner } from "typeorm";

export class InitialSchema1795914148880 implements MigrationInterface {
    name = 'InitialSchema1795914148880'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "areas" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "code" character varying(32) NOT NULL, "name" character varying(200) NOT NULL, "level" character varying(16) NOT NULL, "parent_id" uuid, "path" character varying(400) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_5110493f6342f34c978c084d0d6" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE UNIQUE INDEX "UQ_areas_code" ON "areas"  ("code") `);
        await queryRunner.query(`CREATE INDEX "IDX_areas_path" ON "areas" ("path" varchar_pattern_ops) `);
        await queryRunner.query(`CREATE TABLE "users" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "username" character varying(64) NOT NULL, "password_hash" character varying(255) NOT NULL, "role" character varying(16) NOT NULL, "area_id" uuid, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_a3ffb1c0c8416b9fc6f907b7433" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE UNIQUE INDEX "UQ_users_username" ON "users"  ("username") `);
        await queryRunner.query(`CREATE TABLE "devices" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "code" character varying(64) NOT NULL, "name" character varying(200) NOT NULL, "area_id" uuid NOT NULL, "latitude" double precision, "longitude" double precision, "volume" smallint NOT NULL DEFAULT '80', "secret_hash" character varying(255) NOT NULL, "secret_rotated_at" TIMESTAMP WITH TIME ZONE NOT NULL, "state" character varying(16) NOT NULL DEFAULT 'unknown', "state_changed_at" TIMESTAMP WITH TIME ZONE, "state_seq" bigint NOT NULL DEFAULT '0', "last_seen_at" TIMESTAMP WITH TIME ZONE, "telemetry" jsonb, "firmware" character varying(64), "decommissioned_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_b1514758245c12daf43486dd1f0" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE UNIQUE INDEX "UQ_devices_code" ON "devices"  ("code") `);
        await queryRunner.query(`CREATE INDEX "IDX_devices_area_id" ON "devices"  ("area_id") `);
        await queryRunner.query(`CREATE INDEX "IDX_devices_state" ON "devices"  ("state") `);
        await queryRunner.query(`CREATE TABLE "device_state_changes" ("id" BIGSERIAL NOT NULL, "device_id" uuid NOT NULL, "from_state" character varying(16) NOT NULL, "to_state" character varying(16) NOT NULL, "cause" character varying(32) NOT NULL, "at" TIMESTAMP WITH TIME ZONE NOT NULL, "seq" bigint NOT NULL, CONSTRAINT "PK_4d80a9ed623687402a5d9e1ff2b" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE UNIQUE INDEX "UQ_device_state_changes_seq" ON "device_state_changes"  ("seq") `);
        await queryRunner.query(`CREATE INDEX "IDX_device_state_changes_device_at" ON "device_state_changes"  ("device_id", "at") `);
        await queryRunner.query(`ALTER TABLE "areas" ADD CONSTRAINT "FK_86373c0dc23df246c2b6ac977c3" FOREIGN KEY ("parent_id") REFERENCES "areas"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "users" ADD CONSTRAINT "FK_bb8cbcf3ff9a3a987b63a763139" FOREIGN KEY ("area_id") REFERENCES "areas"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "devices" ADD CONSTRAINT "FK_91080dacf9231b7c3839480669d" FOREIGN KEY ("area_id") REFERENCES "areas"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "device_state_changes" ADD CONSTRAINT "FK_392bde3b606ed0d15fabd2154cc" FOREIGN KEY ("device_id") REFERENCES "devices"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "device_state_changes" DROP CONSTRAINT "FK_392bde3b606ed0d15fabd2154cc"`);
        await queryRunner.query(`ALTER TABLE "devices" DROP CONSTRAINT "FK_91080dacf9231b7c3839480669d"`);
        await queryRunner.query(`ALTER TABLE "users" DROP CONSTRAINT "FK_bb8cbcf3ff9a3a987b63a763139"`);
        await queryRunner.query(`ALTER TABLE "areas" DROP CONSTRAINT "FK_86373c0dc23df246c2b6ac977c3"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_device_state_changes_device_at"`);
        await queryRunner.query(`DROP INDEX "public"."UQ_device_state_changes_seq"`);
        await queryRunner.query(`DROP TABLE "device_state_changes"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_devices_state"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_devices_area_id"`);
        await queryRunner.query(`DROP INDEX "public"."UQ_devices_code"`);
        await queryRunner.query(`DROP TABLE "devices"`);
        await queryRunner.query(`DROP INDEX "public"."UQ_users_username"`);
        await queryRunner.query(`DROP TABLE "users"`);
        await queryRunner.query(`DROP INDEX "public"."IDX_areas_path"`);
        await queryRunner.query(`DROP INDEX "public"."UQ_areas_code"`);
        await queryRunner.query(`DROP TABLE "areas"`);
    }

}
