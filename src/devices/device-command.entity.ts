import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import type { CommandPayload } from '../broker/payloads.js';
import { Device } from './device.entity.js';

export const COMMAND_STATUSES = ['pending', 'ok', 'rejected', 'failed', 'expired'] as const;
export type CommandStatus = (typeof COMMAND_STATUSES)[number];

/** A command sent to one device from the API, retried until acked or expired. */
@Entity('device_commands')
@Index('IDX_device_commands_device_status', ['deviceId', 'status'])
export class DeviceCommand {
  /** The command's own id, as sent to and acked by the device. */
  @PrimaryColumn('uuid')
  id: string;

  @ManyToOne(() => Device, { nullable: false, onDelete: 'CASCADE' })
  @JoinColumn({ name: 'device_id' })
  device: Device;

  @Column({ name: 'device_id', type: 'uuid' })
  deviceId: string;

  @Column({ type: 'varchar', length: 16 })
  type: CommandPayload['type'];

  /** Exactly what goes on the wire. */
  @Column({ type: 'jsonb' })
  payload: CommandPayload;

  @Column({ type: 'varchar', length: 16, default: 'pending' })
  status: CommandStatus;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @Column({ name: 'issued_at', type: 'timestamptz' })
  issuedAt: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'last_sent_at', type: 'timestamptz', nullable: true })
  lastSentAt: Date | null;

  @Column({ name: 'acked_at', type: 'timestamptz', nullable: true })
  ackedAt: Date | null;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  @Column({ name: 'issued_by_id', type: 'uuid', nullable: true })
  issuedById: string | null;
}
