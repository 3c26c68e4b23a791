import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { PlaybackEvent as PlaybackEventPayload } from '../broker/payloads.js';

/** Every PlaybackEvent applied, keyed by the device's own event id so a re-send changes nothing. */
@Entity('playback_events')
@Index('IDX_playback_events_occurrence_device', ['occurrenceId', 'deviceId'])
export class PlaybackEventRecord {
  @PrimaryColumn('uuid')
  id: string;

  @Column({ name: 'device_id', type: 'uuid' })
  deviceId: string;

  @Column({ name: 'occurrence_id', type: 'uuid' })
  occurrenceId: string;

  @Column({ type: 'varchar', length: 16 })
  type: PlaybackEventPayload['type'];

  /** When the device says it happened. */
  @Column({ type: 'timestamptz' })
  at: Date;

  @Column({ type: 'text', nullable: true })
  reason: string | null;

  @Column({ name: 'received_at', type: 'timestamptz', default: () => 'now()' })
  receivedAt: Date;
}
