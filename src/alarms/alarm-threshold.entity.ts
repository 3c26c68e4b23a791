import { Column, Entity, JoinColumn, OneToOne, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { Area } from '../areas/area.entity.js';

/** An area's own offline threshold; areas without one inherit their nearest ancestor's. */
@Entity('alarm_thresholds')
export class AlarmThreshold {
  @PrimaryColumn({ name: 'area_id', type: 'uuid' })
  areaId: string;

  @OneToOne(() => Area, { nullable: false, onDelete: 'CASCADE' })
  @JoinColumn({ name: 'area_id' })
  area: Area;

  @Column({ name: 'offline_after_s', type: 'integer' })
  offlineAfterS: number;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
