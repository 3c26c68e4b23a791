import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { Area } from '../areas/area.entity.js';
import type { Heartbeat } from '../broker/payloads.js';
import type { DeviceState } from './device-state.js';

/** The last heartbeat as the device sent it (optional fields may be null). */
export type DeviceTelemetry = Heartbeat;

@Entity('devices')
export class Device {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** Stays taken after decommissioning, so the history of a code never mixes two devices. */
  @Index('UQ_devices_code', { unique: true })
  @Column({ type: 'varchar', length: 64 })
  code: string;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  @ManyToOne(() => Area, { nullable: false, onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'area_id' })
  area: Area;

  @Index('IDX_devices_area_id')
  @Column({ name: 'area_id', type: 'uuid' })
  areaId: string;

  @Column({ type: 'double precision', nullable: true })
  latitude: number | null;

  @Column({ type: 'double precision', nullable: true })
  longitude: number | null;

  @Column({ type: 'smallint', default: 80 })
  volume: number;

  @Column({ name: 'secret_hash', type: 'varchar', length: 255 })
  secretHash: string;

  @Column({ name: 'secret_rotated_at', type: 'timestamptz' })
  secretRotatedAt: Date;

  @Index('IDX_devices_state')
  @Column({ type: 'varchar', length: 16, default: 'unknown' })
  state: DeviceState;

  @Column({ name: 'state_changed_at', type: 'timestamptz', nullable: true })
  stateChangedAt: Date | null;

  /** Sequence of the last applied liveness transition; older ones arriving late are ignored. */
  @Column({ name: 'state_seq', type: 'bigint', default: 0 })
  stateSeq: string;

  @Column({ name: 'last_seen_at', type: 'timestamptz', nullable: true })
  lastSeenAt: Date | null;

  @Column({ type: 'jsonb', nullable: true })
  telemetry: DeviceTelemetry | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  firmware: string | null;

  /** Version of the last Schedule published to the device; only grows. */
  @Column({ name: 'schedule_version', type: 'integer', default: 0 })
  scheduleVersion: number;

  @Column({ name: 'decommissioned_at', type: 'timestamptz', nullable: true })
  decommissionedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
