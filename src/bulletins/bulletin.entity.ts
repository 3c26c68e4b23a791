import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn, type Relation } from 'typeorm';
import { Area } from '../areas/area.entity.js';
import { Media } from '../media/media.entity.js';

export const BULLETIN_CATEGORIES = ['covid-19', 'election', 'disaster', 'policy', 'news', 'other'] as const;
export type BulletinCategory = (typeof BULLETIN_CATEGORIES)[number];

export const BULLETIN_STATUSES = ['draft', 'submitted', 'approved', 'rejected'] as const;
export type BulletinStatus = (typeof BULLETIN_STATUSES)[number];

/** Audio content with its approval trail: draft → submitted → approved | rejected. */
@Entity('bulletins')
export class Bulletin {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 200 })
  title: string;

  @Column({ type: 'varchar', length: 32 })
  category: BulletinCategory;

  @ManyToOne(() => Media, { nullable: false, onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'media_id' })
  media: Media;

  @Index('IDX_bulletins_media_id')
  @Column({ name: 'media_id', type: 'uuid' })
  mediaId: string;

  @Column({ type: 'text', nullable: true })
  notes: string | null;

  @Index('IDX_bulletins_status')
  @Column({ type: 'varchar', length: 16, default: 'draft' })
  status: BulletinStatus;

  /** The area it belongs to; null: national, seen by admins only. */
  @ManyToOne(() => Area, { nullable: true, onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'area_id', foreignKeyConstraintName: 'FK_bulletins_area_id' })
  area: Relation<Area> | null;

  @Index('IDX_bulletins_area_id')
  @Column({ name: 'area_id', type: 'uuid', nullable: true })
  areaId: string | null;

  @Column({ name: 'created_by_id', type: 'uuid', nullable: true })
  createdById: string | null;

  @Column({ name: 'submitted_by_id', type: 'uuid', nullable: true })
  submittedById: string | null;

  @Column({ name: 'submitted_at', type: 'timestamptz', nullable: true })
  submittedAt: Date | null;

  /** Who approved or rejected it, and when. */
  @Column({ name: 'reviewed_by_id', type: 'uuid', nullable: true })
  reviewedById: string | null;

  @Column({ name: 'reviewed_at', type: 'timestamptz', nullable: true })
  reviewedAt: Date | null;

  @Column({ name: 'rejection_reason', type: 'text', nullable: true })
  rejectionReason: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
