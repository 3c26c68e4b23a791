import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { Device } from './device.entity.js';
import type { DeviceState, StateChangeCause } from './device-state.js';

@Entity('device_state_changes')
@Index('IDX_device_state_changes_device_at', ['deviceId', 'at'])
export class DeviceStateChange {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  @ManyToOne(() => Device, { nullable: false, onDelete: 'CASCADE' })
  @JoinColumn({ name: 'device_id' })
  device: Device;

  @Column({ name: 'device_id', type: 'uuid' })
  deviceId: string;

  @Column({ name: 'from_state', type: 'varchar', length: 16 })
  from: DeviceState;

  @Column({ name: 'to_state', type: 'varchar', length: 16 })
  to: DeviceState;

  @Column({ type: 'varchar', length: 32 })
  cause: StateChangeCause;

  @Column({ type: 'timestamptz' })
  at: Date;

  /** The liveness sequence number: makes re-persisting the same transition a no-op. */
  @Index('UQ_device_state_changes_seq', { unique: true })
  @Column({ type: 'bigint' })
  seq: string;
}
