import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { Device } from '../devices/device.entity.js';
import type { DeliveryStatus } from './delivery-status.js';
import { Occurrence } from './occurrence.entity.js';

/** The as-run record of one occurrence on one device. */
@Entity('deliveries')
@Unique('UQ_deliveries_occurrence_device', ['occurrenceId', 'deviceId'])
@Index('IDX_deliveries_device_status', ['deviceId', 'status'])
export class Delivery {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @ManyToOne(() => Occurrence, { nullable: false, onDelete: 'CASCADE' })
  @JoinColumn({ name: 'occurrence_id' })
  occurrence: Occurrence;

  @Column({ name: 'occurrence_id', type: 'uuid' })
  occurrenceId: string;

  @ManyToOne(() => Device, { nullable: false, onDelete: 'CASCADE' })
  @JoinColumn({ name: 'device_id' })
  device: Device;

  @Column({ name: 'device_id', type: 'uuid' })
  deviceId: string;

  @Column({ type: 'varchar', length: 16, default: 'pending' })
  status: DeliveryStatus;

  /** Version of the device's Schedule that first carried this occurrence. */
  @Column({ name: 'schedule_version', type: 'integer', nullable: true })
  scheduleVersion: number | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'delivered_at', type: 'timestamptz', nullable: true })
  deliveredAt: Date | null;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt: Date | null;

  /** When it reached a final status, whichever it was. */
  @Column({ name: 'ended_at', type: 'timestamptz', nullable: true })
  endedAt: Date | null;

  /** Why it failed, was interrupted, missed, pre-empted or cancelled. */
  @Column({ type: 'text', nullable: true })
  reason: string | null;
}
