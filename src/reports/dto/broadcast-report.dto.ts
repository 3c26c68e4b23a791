import { ApiProperty } from '@nestjs/swagger';

/** What played where: the figures of one commune, or of the whole area. */
export class BroadcastFiguresDto {
  @ApiProperty({ description: 'devices in the registry during the period' }) devices: number;
  @ApiProperty({ description: 'distinct broadcasts with a counted delivery' }) broadcasts: number;
  @ApiProperty({ description: 'distinct occurrences with a counted delivery' }) occurrences: number;
  @ApiProperty({ description: 'minutes of finished plays, two decimals' }) minutesPlayed: number;
  @ApiProperty({ description: 'deliveries that were to play (not cancelled, not pre-empted)' }) deliveries: number;
  @ApiProperty({ description: 'deliveries played to the end (`finished`)' }) delivered: number;
  @ApiProperty({ type: Number, nullable: true, description: 'delivered / deliveries × 100, two decimals; null without deliveries' }) successRate: number | null;
  @ApiProperty({ description: 'deliveries never played (`missed`, including skipped by the device)' }) missed: number;
}

export class CommuneBroadcastsDto extends BroadcastFiguresDto {
  @ApiProperty({ description: 'the commune (a device placed above commune level counts in its own area)' }) communeCode: string;
  @ApiProperty() communeName: string;
}

export class BroadcastReportDto {
  @ApiProperty({ type: String, nullable: true, description: 'null: the whole country' }) areaCode: string | null;
  @ApiProperty() from: string;
  @ApiProperty() to: string;
  @ApiProperty({ type: [CommuneBroadcastsDto] }) communes: CommuneBroadcastsDto[];
  @ApiProperty({ type: BroadcastFiguresDto, description: 'the whole area: broadcasts and occurrences are distinct across communes, not summed' })
  totals: BroadcastFiguresDto;
}

export const BROADCAST_CSV_COLUMNS = [
  'communeCode',
  'communeName',
  'devices',
  'broadcasts',
  'occurrences',
  'minutesPlayed',
  'deliveries',
  'delivered',
  'successRate',
  'missed',
] as const satisfies readonly (keyof CommuneBroadcastsDto)[];
