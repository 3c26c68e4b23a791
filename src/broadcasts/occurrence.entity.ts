import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { Broadcast } from './broadcast.entity.js';

/** One concrete play time of a broadcast. */
@Entity('occurrences')
@Index('UQ_occurrences_broadcast_start', ['broadcastId', 'startAt'], { unique: true })
export class Occurrence {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @ManyToOne(() => Broadcast, { nullable: false, onDelete: 'CASCADE' })
  @JoinColumn({ name: 'broadcast_id' })
  broadcast: Broadcast;

  @Column({ name: 'broadcast_id', type: 'uuid' })
  broadcastId: string;

  @Index('IDX_occurrences_start_at')
  @Column({ name: 'start_at', type: 'timestamptz' })
  startAt: Date;

  @Column({ name: 'end_at', type: 'timestamptz' })
  endAt: Date;

  /** Id of the `play` command sent for an immediate broadcast; devices ack it by this id. */
  @Index('UQ_occurrences_command_id', { unique: true, where: 'command_id IS NOT NULL' })
  @Column({ name: 'command_id', type: 'uuid', nullable: true })
  commandId: string | null;

  @Column({ name: 'cancelled_at', type: 'timestamptz', nullable: true })
  cancelledAt: Date | null;
}
