import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AreasModule } from '../../areas/areas.module.js';
import { WebhookDeliveries } from './webhook-deliveries.service.js';
import { WebhookDeliveryProcessor } from './webhook-delivery.processor.js';
import { WebhookDelivery } from './webhook-delivery.entity.js';
import { WebhookSender } from './webhook-sender.js';
import { Webhook } from './webhook.entity.js';
import { WebhooksController } from './webhooks.controller.js';
import { WebhooksService } from './webhooks.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([Webhook, WebhookDelivery]), AreasModule],
  controllers: [WebhooksController],
  providers: [WebhooksService, WebhookDeliveries, WebhookSender, WebhookDeliveryProcessor],
  exports: [WebhookDeliveries],
})
export class WebhooksModule {}
