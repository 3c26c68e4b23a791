import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, type Relation } from 'typeorm';
import { Area } from '../areas/area.entity.js';

export const MEDIA_KINDS = ['file', 'stream'] as const;
export type MediaKind = (typeof MEDIA_KINDS)[number];

/** An uploaded audio file (kind `file`) or a live relay source (kind `stream`). */
@Entity('media')
export class Media {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 8 })
  kind: MediaKind;

  @Column({ type: 'varchar', length: 200, nullable: true })
  title: string | null;

  /** Hex SHA-256 of the stored bytes; devices check it before playing. */
  @Column({ type: 'char', length: 64, nullable: true })
  sha256: string | null;

  @Column({ type: 'bigint', nullable: true, transformer: { to: (v: number | null) => v, from: (v: string | null) => (v === null ? null : Number(v)) } })
  bytes: number | null;

  @Column({ name: 'duration_ms', type: 'integer', nullable: true })
  durationMs: number | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  mime: string | null;

  /** Where the storage backend keeps the bytes; never shown to callers. */
  @Column({ name: 'storage_key', type: 'varchar', length: 200, nullable: true })
  storageKey: string | null;

  @Column({ name: 'original_name', type: 'varchar', length: 255, nullable: true })
  originalName: string | null;

  @Column({ name: 'stream_url', type: 'varchar', length: 2000, nullable: true })
  streamUrl: string | null;

  /** The area it belongs to; null: national, seen by admins only. */
  @ManyToOne(() => Area, { nullable: true, onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'area_id', foreignKeyConstraintName: 'FK_media_area_id' })
  area: Relation<Area> | null;

  @Index('IDX_media_area_id')
  @Column({ name: 'area_id', type: 'uuid', nullable: true })
  areaId: string | null;

  @Column({ name: 'created_by_id', type: 'uuid', nullable: true })
  createdById: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
