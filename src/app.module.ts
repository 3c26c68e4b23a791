import { Module } from '@nestjs/common';
import { AlarmsModule } from './alarms/alarms.module.js';
import { AuditModule } from './audit/audit.module.js';
import { DashboardModule } from './dashboard/dashboard.module.js';
import { EventsModule } from './events/events.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { ReportsModule } from './reports/reports.module.js';
import { UsersModule } from './users/users.module.js';
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
    EventsModule,
    AuditModule,
    AuthModule,
    UsersModule,
    AreasModule,
    DevicesModule,
    MediaModule,
    BulletinsModule,
    BroadcastsModule,
    AsRunLogModule,
    AlarmsModule,
    ReportsModule,
    MetricsModule,
    HealthModule,
    DashboardModule,
  ],
})
export class AppModule {}
