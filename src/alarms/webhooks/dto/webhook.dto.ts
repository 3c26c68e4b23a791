import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMinSize, ArrayUnique, IsArray, IsBoolean, IsIn, IsOptional, IsString, IsUrl, Matches, MaxLength, ValidateIf } from 'class-validator';
import { AREA_CODE_PATTERN } from '../../../areas/area.entity.js';
import { PageQueryDto } from '../../../common/page.js';
import { ALARM_EVENT_TYPES, type AlarmEventType } from '../../alarm-event.js';
import { WEBHOOK_DELIVERY_STATUSES, type WebhookDeliveryStatus } from '../webhook-delivery.entity.js';
import type { WebhookDelivery } from '../webhook-delivery.entity.js';
import type { Webhook } from '../webhook.entity.js';

/** Receivers inside a private network are allowed on purpose: that is where a province's NOC usually is. */
const IsWebhookUrl = () =>
  IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false }, { message: 'url must be an http or https URL' });

const IsOmittable = () => ValidateIf((_, value) => value !== undefined);

export class CreateWebhookDto {
  @ApiProperty({ example: 'https://noc.example.vn/loa-alarms' })
  @IsString() @MaxLength(2000) @IsWebhookUrl()
  url: string;

  @ApiPropertyOptional({ enum: ALARM_EVENT_TYPES, isArray: true, description: 'default: every alarm event' })
  @IsOptional() @IsArray() @ArrayMinSize(1) @ArrayUnique() @IsIn(ALARM_EVENT_TYPES, { each: true })
  events?: AlarmEventType[];

  @ApiPropertyOptional({ type: String, nullable: true, description: 'only alarms of devices in this area subtree; null: everywhere' })
  @ValidateIf((_, v) => v !== null && v !== undefined) @IsString() @Matches(AREA_CODE_PATTERN, { message: 'areaCode is not an area code' })
  areaCode?: string | null;

  @ApiPropertyOptional({ default: true })
  @IsOptional() @IsBoolean()
  enabled?: boolean;
}

export class UpdateWebhookDto {
  @ApiPropertyOptional()
  @IsOmittable() @IsString() @MaxLength(2000) @IsWebhookUrl()
  url?: string;

  @ApiPropertyOptional({ enum: ALARM_EVENT_TYPES, isArray: true })
  @IsOmittable() @IsArray() @ArrayMinSize(1) @ArrayUnique() @IsIn(ALARM_EVENT_TYPES, { each: true })
  events?: AlarmEventType[];

  @ApiPropertyOptional({ type: String, nullable: true, description: 'null: everywhere' })
  @ValidateIf((_, v) => v !== null && v !== undefined) @IsString() @Matches(AREA_CODE_PATTERN, { message: 'areaCode is not an area code' })
  areaCode?: string | null;

  @ApiPropertyOptional()
  @IsOmittable() @IsBoolean()
  enabled?: boolean;
}

export class ListWebhookDeliveriesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: WEBHOOK_DELIVERY_STATUSES })
  @IsOptional() @IsIn(WEBHOOK_DELIVERY_STATUSES)
  status?: WebhookDeliveryStatus;
}

export class WebhookDto {
  @ApiProperty() id: string;
  @ApiProperty() url: string;
  @ApiProperty({ enum: ALARM_EVENT_TYPES, isArray: true }) events: AlarmEventType[];
  @ApiProperty({ type: String, nullable: true }) areaCode: string | null;
  @ApiProperty() enabled: boolean;
  @ApiProperty() createdAt: string;
}

export class CreatedWebhookDto extends WebhookDto {
  @ApiProperty({ description: 'HMAC key of X-Loa-Signature; shown this once' }) secret: string;
}

export class WebhookDeliveryDto {
  @ApiProperty() id: string;
  @ApiProperty({ description: 'the `id` of the event in the request body' }) eventId: string;
  @ApiProperty({ enum: ALARM_EVENT_TYPES }) eventType: AlarmEventType;
  @ApiProperty({ type: String, nullable: true }) alarmId: string | null;
  @ApiProperty({ enum: WEBHOOK_DELIVERY_STATUSES }) status: WebhookDeliveryStatus;
  @ApiProperty() attempts: number;
  @ApiProperty({ type: Number, nullable: true, description: 'HTTP status of the last answer' }) lastStatus: number | null;
  @ApiProperty({ type: String, nullable: true }) lastError: string | null;
  @ApiProperty({ type: String, nullable: true }) lastAttemptAt: string | null;
  @ApiProperty({ type: String, nullable: true }) deliveredAt: string | null;
  @ApiProperty() createdAt: string;
}

export function toWebhookDto(webhook: Webhook): WebhookDto {
  return {
    id: webhook.id,
    url: webhook.url,
    events: webhook.events,
    areaCode: webhook.area?.code ?? null,
    enabled: webhook.enabled,
    createdAt: webhook.createdAt.toISOString(),
  };
}

export function toWebhookDeliveryDto(d: WebhookDelivery): WebhookDeliveryDto {
  return {
    id: d.id,
    eventId: d.eventId,
    eventType: d.eventType,
    alarmId: d.alarmId,
    status: d.status,
    attempts: d.attempts,
    lastStatus: d.lastStatus,
    lastError: d.lastError,
    lastAttemptAt: d.lastAttemptAt?.toISOString() ?? null,
    deliveredAt: d.deliveredAt?.toISOString() ?? null,
    createdAt: d.createdAt.toISOString(),
  };
}
