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

export const AREA_LEVELS = ['province', 'district', 'commune', 'village'] as const;
export type AreaLevel = (typeof AREA_LEVELS)[number];

/** The level an area's parent must have; a province is a root. */
export const PARENT_LEVEL: Record<AreaLevel, AreaLevel | null> = {
  province: null,
  district: 'province',
  commune: 'district',
  village: 'commune',
};

/** Official codes: GSO province (2 digits), district (3), commune (5); villages use local codes. */
export const AREA_CODE_PATTERN = /^[0-9A-Za-z][0-9A-Za-z_-]{0,31}$/;

@Entity('areas')
export class Area {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index('UQ_areas_code', { unique: true })
  @Column({ type: 'varchar', length: 32 })
  code: string;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  @Column({ type: 'varchar', length: 16 })
  level: AreaLevel;

  @ManyToOne(() => Area, { nullable: true, onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'parent_id' })
  parent: Area | null;

  @Column({ name: 'parent_id', type: 'uuid', nullable: true })
  parentId: string | null;

  /**
   * Codes from the root down to this area, `/06/063/01975/`. Subtree queries are a prefix
   * match on an indexed column instead of a recursive walk.
   */
  @Index('IDX_areas_path')
  @Column({ type: 'varchar', length: 400 })
  path: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

export function areaCodesOfPath(path: string): string[] {
  return path.split('/').filter(Boolean);
}
