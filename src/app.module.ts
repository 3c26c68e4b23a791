import { Module } from '@nestjs/common';
import { AreasModule } from './areas/areas.module.js';
import { AuthModule } from './auth/auth.module.js';
import { AsRunLogModule } from './broadcasts/as-run/as-run-log.module.js';
import { BroadcastsModule } from './broadcasts/broadcasts.module.js';
import { BrokerModule } from './broker/broker.module.js';
import { BulletinsModule } from './bulletins/bulletins.module.js';
import { ConfigModule } from './config/config.module.js';
import { DatabaseModule } from './database/database.module.js';
import { DevicesModule } from './devices/devices.module.js';
import { HealthModule } from './health/health.module.js';
import { MediaModule } from './media/media.module.js';
import { QueuesModule } from './queues/queues.module.js';
import { RedisModule } from './redis/redis.module.js';

@Module({
  imports: [
    ConfigModule,
    DatabaseModule,
    RedisModule,
    QueuesModule,
    BrokerModule,
    AuthModule,
    AreasModule,
    DevicesModule,
    MediaModule,
    BulletinsModule,
    BroadcastsModule,
    AsRunLogModule,
    HealthModule,
  ],
})
export class AppModule {}
