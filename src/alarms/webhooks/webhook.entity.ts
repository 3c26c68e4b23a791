import { Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { Area } from '../../areas/area.entity.js';
import type { AlarmEventType } from '../alarm-event.js';

/** An HTTP endpoint told about alarm events, optionally only for one area subtree. */
@Entity('webhooks')
export class Webhook {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 2000 })
  url: string;

  /** Kept in clear: every request is signed with it (HMAC), so it cannot be stored hashed. */
  @Column({ type: 'varchar', length: 128 })
  secret: string;

  @Column({ type: 'text', array: true })
  events: AlarmEventType[];

  @ManyToOne(() => Area, { nullable: true, onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'area_id' })
  area: Area | null;

  @Column({ name: 'area_id', type: 'uuid', nullable: true })
  areaId: string | null;

  @Column({ type: 'boolean', default: true })
  enabled: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
