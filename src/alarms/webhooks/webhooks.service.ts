import { BadRequestException, Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import type { Area } from '../../areas/area.entity.js';
import { AreasService } from '../../areas/areas.service.js';
import { pageOf, type Page, type PageQueryDto } from '../../common/page.js';
import { isUuid } from '../../common/uuid.js';
import { ALARM_EVENT_TYPES } from '../alarm-event.js';
import {
  toWebhookDto,
  type CreatedWebhookDto,
  type CreateWebhookDto,
  type UpdateWebhookDto,
  type WebhookDto,
} from './dto/webhook.dto.js';
import { newWebhookSecret } from './webhook-signature.js';
import { Webhook } from './webhook.entity.js';

/** Webhook registrations. Who receives which event is decided in WebhookDeliveries. */
@Injectable()
export class WebhooksService {
  private readonly logger = new Logger(WebhooksService.name);

  constructor(
    @InjectRepository(Webhook) private readonly webhooks: Repository<Webhook>,
    @Inject(AreasService) private readonly areas: AreasService,
  ) {}

  async create(dto: CreateWebhookDto): Promise<CreatedWebhookDto> {
    const area = dto.areaCode ? await this.referencedArea(dto.areaCode) : null;
    const secret = newWebhookSecret();
    const webhook = this.webhooks.create({
      url: dto.url,
      secret,
      events: dto.events ?? [...ALARM_EVENT_TYPES],
      area,
      areaId: area?.id ?? null,
      enabled: dto.enabled ?? true,
    });
    await this.webhooks.insert(webhook);
    this.logger.log(`webhook ${webhook.id} created for ${webhook.url} (${webhook.events.join(', ')}${area ? ` in ${area.code}` : ''})`);
    return { ...(await this.get(webhook.id)), secret };
  }

  async list(query: PageQueryDto): Promise<Page<WebhookDto>> {
    const [rows, total] = await this.webhooks.findAndCount({
      relations: { area: true },
      order: { createdAt: 'ASC', id: 'ASC' },
      skip: query.skip,
      take: query.pageSize,
    });
    return pageOf(rows.map(toWebhookDto), total, query);
  }

  async get(id: string): Promise<WebhookDto> {
    return toWebhookDto(await this.findOrFail(id));
  }

  async update(id: string, dto: UpdateWebhookDto): Promise<WebhookDto> {
    const webhook = await this.findOrFail(id);
    if (dto.url !== undefined) webhook.url = dto.url;
    if (dto.events !== undefined) webhook.events = dto.events;
    if (dto.enabled !== undefined) webhook.enabled = dto.enabled;
    if (dto.areaCode !== undefined) {
      webhook.area = dto.areaCode === null ? null : await this.referencedArea(dto.areaCode);
      webhook.areaId = webhook.area?.id ?? null;
    }
    await this.webhooks.save(webhook);
    return this.get(id);
  }

  async remove(id: string): Promise<void> {
    await this.findOrFail(id);
    await this.webhooks.delete({ id });
    this.logger.log(`webhook ${id} deleted with its delivery log`);
  }

  /** 404 unless it exists; the deliveries route uses it too. */
  async findOrFail(id: string): Promise<Webhook> {
    const webhook = isUuid(id) ? await this.webhooks.findOne({ where: { id }, relations: { area: true } }) : null;
    if (!webhook) throw new NotFoundException({ error: 'not-found', message: `webhook ${id} not found` });
    return webhook;
  }

  private async referencedArea(code: string): Promise<Area> {
    try {
      return await this.areas.getByCode(code);
    } catch (err) {
      if (err instanceof NotFoundException) throw new BadRequestException({ error: 'unknown-area', message: `area ${code} not found` });
      throw err;
    }
  }
}
