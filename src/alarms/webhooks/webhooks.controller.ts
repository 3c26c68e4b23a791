import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Requires } from '../../auth/permissions.js';
import { PageQueryDto } from '../../common/page.js';
import {
  CreatedWebhookDto,
  CreateWebhookDto,
  ListWebhookDeliveriesQueryDto,
  UpdateWebhookDto,
  WebhookDto,
} from './dto/webhook.dto.js';
import { WebhookDeliveries } from './webhook-deliveries.service.js';
import { WebhooksService } from './webhooks.service.js';

@ApiTags('webhooks')
@Controller('api/v1/webhooks')
@Requires('webhooks:admin')
export class WebhooksController {
  constructor(
    @Inject(WebhooksService) private readonly webhooks: WebhooksService,
    @Inject(WebhookDeliveries) private readonly deliveries: WebhookDeliveries,
  ) {}

  @Post()
  @ApiCreatedResponse({ type: CreatedWebhookDto, description: 'the secret is returned this once' })
  create(@Body() body: CreateWebhookDto) {
    return this.webhooks.create(body);
  }

  @Get()
  @ApiOkResponse({ description: 'a page of webhooks' })
  list(@Query() query: PageQueryDto) {
    return this.webhooks.list(query);
  }

  @Get(':id')
  @ApiOkResponse({ type: WebhookDto })
  @ApiNotFoundResponse()
  get(@Param('id') id: string) {
    return this.webhooks.get(id);
  }

  @Patch(':id')
  @ApiOkResponse({ type: WebhookDto })
  update(@Param('id') id: string, @Body() body: UpdateWebhookDto) {
    return this.webhooks.update(id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'deleted, with its delivery log' })
  remove(@Param('id') id: string) {
    return this.webhooks.remove(id);
  }

  @Get(':id/deliveries')
  @ApiOkResponse({ description: 'a page of deliveries, newest first; `dead` ones are the dead letters' })
  async deliveriesOf(@Param('id') id: string, @Query() query: ListWebhookDeliveriesQueryDto) {
    const webhook = await this.webhooks.findOrFail(id);
    return this.deliveries.list(webhook.id, query);
  }
}
