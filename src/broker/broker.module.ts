import { Global, Module } from '@nestjs/common';
import { BrokerService } from './broker.service.js';

@Global()
@Module({ providers: [BrokerService], exports: [BrokerService] })
export class BrokerModule {}
