import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsArray, IsIn, IsISO8601, IsOptional, IsString, IsUUID, Matches } from 'class-validator';
import { AREA_CODE_PATTERN } from '../../../areas/area.entity.js';
import { DEVICE_CODE_PATTERN } from '../../../broker/topics.js';
import { PRIORITIES, type Priority } from '../../../broker/payloads.js';
import { BULLETIN_CATEGORIES, type BulletinCategory } from '../../../bulletins/bulletin.entity.js';
import { PageQueryDto, type Page } from '../../../common/page.js';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../../delivery-status.js';

/** `?status=missed,failed` or `?status=missed&status=failed`. */
function commaList({ value }: { value: unknown }): unknown {
  if (value === undefined) return value;
  return [value].flat().flatMap((v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : [v]));
}

/** An unencoded `+07:00` in a query string arrives as ` 07:00`; a space is never valid ISO, so it can only mean `+`. */
const plusRestored = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.replaceAll(' ', '+') : value);

const statusFilter = () =>
  ApiPropertyOptional({ enum: DELIVERY_STATUSES, isArray: true, description: 'one status or a comma list', example: 'missed,failed' });

export class OccurrenceDeliveriesQueryDto extends PageQueryDto {
  @statusFilter()
  @IsOptional() @Transform(commaList) @IsArray()
  @IsIn(DELIVERY_STATUSES, { each: true, message: `status must be among ${DELIVERY_STATUSES.join(', ')}` })
  status?: DeliveryStatus[];
}

export class AsRunLogQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'devices anywhere in this area subtree' })
  @IsOptional() @IsString() @Matches(AREA_CODE_PATTERN, { message: 'areaCode is not an area code' })
  areaCode?: string;

  @ApiPropertyOptional({ description: 'occurrences starting at or after this instant (ISO-8601); default: 24 h before `to`' })
  @IsOptional() @Transform(plusRestored) @IsISO8601({ strict: true }, { message: 'from must be an ISO-8601 date-time' })
  from?: string;

  @ApiPropertyOptional({ description: 'occurrences starting before this instant (ISO-8601); default: now. At most 93 days after `from`' })
  @IsOptional() @Transform(plusRestored) @IsISO8601({ strict: true }, { message: 'to must be an ISO-8601 date-time' })
  to?: string;

  @statusFilter()
  @IsOptional() @Transform(commaList) @IsArray()
  @IsIn(DELIVERY_STATUSES, { each: true, message: `status must be among ${DELIVERY_STATUSES.join(', ')}` })
  status?: DeliveryStatus[];

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional() @IsUUID()
  broadcastId?: string;

  @ApiPropertyOptional()
  @IsOptional() @IsString() @Matches(DEVICE_CODE_PATTERN, { message: 'deviceCode is not a device code' })
  deviceCode?: string;
}

export class OccurrenceDeliveryDto {
  @ApiProperty() deviceCode: string;
  @ApiProperty() deviceName: string;
  @ApiProperty() areaCode: string;
  @ApiProperty({ enum: DELIVERY_STATUSES }) status: DeliveryStatus;
  @ApiProperty({ type: Number, nullable: true, description: 'version of the Schedule that first carried it' }) scheduleVersion: number | null;
  @ApiProperty() createdAt: string;
  @ApiProperty({ type: String, nullable: true }) deliveredAt: string | null;
  @ApiProperty({ type: String, nullable: true }) startedAt: string | null;
  @ApiProperty({ type: String, nullable: true }) endedAt: string | null;
  @ApiProperty({ type: String, nullable: true }) reason: string | null;
}

export class OccurrenceDeliveriesDto implements Page<OccurrenceDeliveryDto> {
  @ApiProperty({ type: [OccurrenceDeliveryDto] }) items: OccurrenceDeliveryDto[];
  @ApiProperty() total: number;
  @ApiProperty() page: number;
  @ApiProperty() pageSize: number;
  @ApiProperty({ type: Object, description: 'deliveries of the whole occurrence by status, whatever the filter', example: { pending: 3, finished: 120 } })
  counts: Record<DeliveryStatus, number>;
}

/** One line of the as-run log: what was to play, where, and what the device did. */
export class AsRunEntryDto {
  @ApiProperty({ format: 'uuid' }) occurrenceId: string;
  @ApiProperty({ format: 'uuid' }) broadcastId: string;
  @ApiProperty() bulletinTitle: string;
  @ApiProperty({ enum: BULLETIN_CATEGORIES }) category: BulletinCategory;
  @ApiProperty({ enum: PRIORITIES }) priority: Priority;
  @ApiProperty() startAt: string;
  @ApiProperty() deviceCode: string;
  @ApiProperty() areaCode: string;
  @ApiProperty({ enum: DELIVERY_STATUSES }) status: DeliveryStatus;
  @ApiProperty({ type: String, nullable: true }) deliveredAt: string | null;
  @ApiProperty({ type: String, nullable: true }) startedAt: string | null;
  @ApiProperty({ type: String, nullable: true }) endedAt: string | null;
  @ApiProperty({ type: String, nullable: true }) reason: string | null;
}

/** Column order of the CSV export: the fields of AsRunEntryDto. */
export const AS_RUN_CSV_COLUMNS = [
  'occurrenceId',
  'broadcastId',
  'bulletinTitle',
  'category',
  'priority',
  'startAt',
  'deviceCode',
  'areaCode',
  'status',
  'deliveredAt',
  'startedAt',
  'endedAt',
  'reason',
] as const satisfies readonly (keyof AsRunEntryDto)[];
