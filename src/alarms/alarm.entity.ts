import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { User } from '../auth/user.entity.js';
import { Device } from '../devices/device.entity.js';

/**
 * A device offline longer than its area's threshold. It stays open (one per device) until
 * the device has been back online for ALARM_CLEAR_AFTER_S; drops in between count as flaps
 * of the same alarm.
 */
@Entity('alarms')
@Index('UQ_alarms_open_device', ['deviceId'], { unique: true, where: 'cleared_at IS NULL' })
@Index('IDX_alarms_device_opened_at', ['deviceId', 'openedAt'])
export class Alarm {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @ManyToOne(() => Device, { nullable: false, onDelete: 'CASCADE' })
  @JoinColumn({ name: 'device_id' })
  device: Device;

  @Column({ name: 'device_id', type: 'uuid' })
  deviceId: string;

  /** Start of the device's latest outage (moves forward when a flapping device drops again). */
  @Column({ name: 'offline_since', type: 'timestamptz' })
  offlineSince: Date;

  @Index('IDX_alarms_opened_at')
  @Column({ name: 'opened_at', type: 'timestamptz' })
  openedAt: Date;

  /** When the device came back; null while it is offline. */
  @Column({ name: 'returned_at', type: 'timestamptz', nullable: true })
  returnedAt: Date | null;

  @Column({ name: 'cleared_at', type: 'timestamptz', nullable: true })
  clearedAt: Date | null;

  /** Times the device dropped again after returning, while this alarm was open. */
  @Column({ type: 'integer', default: 0 })
  flaps: number;

  /** The device's liveness seq the sweep last looked at; newer transitions are counted once. */
  @Column({ name: 'state_seq', type: 'bigint' })
  stateSeq: string;

  @Column({ name: 'acknowledged_at', type: 'timestamptz', nullable: true })
  acknowledgedAt: Date | null;

  @ManyToOne(() => User, { nullable: true, onDelete: 'SET NULL' })
  @JoinColumn({ name: 'acknowledged_by_id' })
  acknowledgedByUser: User | null;

  @Column({ name: 'acknowledged_by_id', type: 'uuid', nullable: true })
  acknowledgedById: string | null;

  /** Username at the time, kept when the account is deleted. */
  @Column({ name: 'acknowledged_by', type: 'varchar', length: 64, nullable: true })
  acknowledgedBy: string | null;

  @Column({ type: 'text', nullable: true })
  note: string | null;
}
