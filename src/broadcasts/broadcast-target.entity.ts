import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, type Relation } from 'typeorm';
import { Area } from '../areas/area.entity.js';
import { Device } from '../devices/device.entity.js';
import { Broadcast } from './broadcast.entity.js';

/** One area subtree or one device a broadcast plays on. Exactly one of the two is set. */
@Entity('broadcast_targets')
export class BroadcastTarget {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @ManyToOne(() => Broadcast, (b) => b.targets, { nullable: false, onDelete: 'CASCADE' })
  @JoinColumn({ name: 'broadcast_id' })
  // Relation<> keeps the emitted design type from touching Broadcast, which imports this file (ESM cycle).
  broadcast: Relation<Broadcast>;

  @Index('IDX_broadcast_targets_broadcast_id')
  @Column({ name: 'broadcast_id', type: 'uuid' })
  broadcastId: string;

  @ManyToOne(() => Area, { nullable: true, onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'area_id' })
  area: Area | null;

  @Index('IDX_broadcast_targets_area_id')
  @Column({ name: 'area_id', type: 'uuid', nullable: true })
  areaId: string | null;

  @ManyToOne(() => Device, { nullable: true, onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'device_id' })
  device: Device | null;

  @Index('IDX_broadcast_targets_device_id')
  @Column({ name: 'device_id', type: 'uuid', nullable: true })
  deviceId: string | null;
}
