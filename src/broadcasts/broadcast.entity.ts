import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  OneToMany,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
  type Relation,
} from 'typeorm';
import { Area } from '../areas/area.entity.js';
import type { Priority } from '../broker/payloads.js';
import { Bulletin } from '../bulletins/bulletin.entity.js';
import { Media } from '../media/media.entity.js';
import { BroadcastTarget } from './broadcast-target.entity.js';

export const SCHEDULE_KINDS = ['now', 'once', 'recurring'] as const;
export type ScheduleKind = (typeof SCHEDULE_KINDS)[number];

export const BROADCAST_STATES = ['active', 'completed', 'cancelled'] as const;
export type BroadcastState = (typeof BROADCAST_STATES)[number];

/** A bulletin to play on some speakers: where (targets), when (schedule), how loud and how urgent. */
@Entity('broadcasts')
export class Broadcast {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @ManyToOne(() => Bulletin, { nullable: false, onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'bulletin_id' })
  bulletin: Bulletin;

  @Index('IDX_broadcasts_bulletin_id')
  @Column({ name: 'bulletin_id', type: 'uuid' })
  bulletinId: string;

  /** The bulletin's audio when the broadcast was made: a later edit of the bulletin does not change what plays. */
  @ManyToOne(() => Media, { nullable: false, onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'media_id' })
  media: Media;

  @Column({ name: 'media_id', type: 'uuid' })
  mediaId: string;

  @Column({ type: 'varchar', length: 16 })
  priority: Priority;

  @Column({ type: 'smallint', nullable: true })
  volume: number | null;

  @Column({ name: 'schedule_kind', type: 'varchar', length: 16 })
  scheduleKind: ScheduleKind;

  /** First play time (`once`, `now`) or DTSTART of the rule (`recurring`). */
  @Column({ name: 'start_at', type: 'timestamptz' })
  startAt: Date;

  @Column({ type: 'text', nullable: true })
  rrule: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  until: Date | null;

  /** IANA zone the rule's wall-clock times are read in. */
  @Column({ type: 'varchar', length: 64 })
  timezone: string;

  /** How long one play lasts, from the media (or given for a live relay). */
  @Column({ name: 'duration_ms', type: 'integer' })
  durationMs: number;

  /** `now` broadcasts: after this, a device that has not played it is marked missed. */
  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt: Date | null;

  @Index('IDX_broadcasts_state')
  @Column({ type: 'varchar', length: 16, default: 'active' })
  state: BroadcastState;

  /** Occurrences exist up to this instant; the horizon job extends it. */
  @Column({ name: 'materialised_until', type: 'timestamptz', nullable: true })
  materialisedUntil: Date | null;

  /** As the caller gave them, for display; `targets` is what matching uses. */
  @Column({ name: 'target_area_codes', type: 'text', array: true, default: () => "'{}'" })
  targetAreaCodes: string[];

  @Column({ name: 'target_device_codes', type: 'text', array: true, default: () => "'{}'" })
  targetDeviceCodes: string[];

  @OneToMany(() => BroadcastTarget, (t) => t.broadcast)
  targets: BroadcastTarget[];

  /** The area it belongs to; null: national, seen by admins only. */
  @ManyToOne(() => Area, { nullable: true, onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'area_id', foreignKeyConstraintName: 'FK_broadcasts_area_id' })
  area: Relation<Area> | null;

  @Index('IDX_broadcasts_area_id')
  @Column({ name: 'area_id', type: 'uuid', nullable: true })
  areaId: string | null;

  @Column({ name: 'created_by_id', type: 'uuid', nullable: true })
  createdById: string | null;

  @Column({ name: 'cancelled_by_id', type: 'uuid', nullable: true })
  cancelledById: string | null;

  @Column({ name: 'cancelled_at', type: 'timestamptz', nullable: true })
  cancelledAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
