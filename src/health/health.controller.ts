import { Controller, Get, HttpCode, Inject, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { Public } from '../auth/public.decorator.js';
import { BrokerService } from '../broker/broker.service.js';
import { RedisService } from '../redis/redis.module.js';

type Check = 'ok' | string;

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(RedisService) private readonly redis: RedisService,
    @Inject(BrokerService) private readonly broker: BrokerService,
  ) {}

  /** The process is up and serving HTTP. */
  @Get()
  @ApiOkResponse({ schema: { example: { status: 'ok' } } })
  live() {
    return { status: 'ok' };
  }

  /** Postgres, Redis and the MQTT listener all answer. */
  @Get('ready')
  @HttpCode(200)
  @ApiOkResponse({ schema: { example: { status: 'ok', checks: { postgres: 'ok', redis: 'ok', broker: 'ok' } } } })
  @ApiServiceUnavailableResponse({ description: 'one of the checks failed; the body names it' })
  async ready() {
    const [postgres, redis, broker] = await Promise.all([
      check(() => this.db.query('SELECT 1')),
      check(() => this.redis.client.ping()),
      check(async () => {
        if (!this.broker.isListening()) throw new Error('MQTT listener is not open');
      }),
    ]);
    const checks = { postgres, redis, broker };
    const status = Object.values(checks).every((c) => c === 'ok') ? 'ok' : 'unavailable';
    if (status !== 'ok') throw new ServiceUnavailableException({ status, checks });
    return { status, checks };
  }
}

async function check(probe: () => Promise<unknown>, timeoutMs = 2000): Promise<Check> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs))),
    ]);
    return 'ok';
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    clearTimeout(timer);
  }
}
