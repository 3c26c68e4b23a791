import { hostname } from 'node:os';
import { plainToInstance, Transform } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  validateSync,
} from 'class-validator';

/** Nest's log levels, least verbose first: LOG_LEVEL names the most verbose one shown. */
const LOG_LEVELS = ['error', 'warn', 'log', 'debug', 'verbose'] as const;
type LogLevelName = (typeof LOG_LEVELS)[number];

export function logLevelsUpTo(level: LogLevelName): LogLevelName[] {
  return LOG_LEVELS.slice(0, LOG_LEVELS.indexOf(level) + 1);
}

const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;

/**
 * The process environment, validated once at boot. Every other module receives this
 * typed object; nothing reads `process.env` after start-up.
 */
export class AppConfig {
  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'must be a postgres:// URL' })
  DATABASE_URL: string;

  @Matches(/^rediss?:\/\/\S+$/, { message: 'must be a redis:// URL' })
  REDIS_URL: string;

  /** Namespace for every Redis key and BullMQ queue, so several deployments or test runs share one Redis. */
  @Matches(/^[a-zA-Z0-9_-]{1,40}$/, { message: 'must be 1-40 letters, digits, - or _' })
  REDIS_PREFIX = 'loa';

  @Transform(toInt) @IsInt() @Min(0) @Max(65535)
  PORT = 3000;

  /** 0 picks a free port (tests). */
  @Transform(toInt) @IsInt() @Min(0) @Max(65535)
  MQTT_PORT = 1883;

  @IsString() @MinLength(1)
  MQTT_HOST = '0.0.0.0';

  /** Unique per broker instance (Aedes `id`), so presence events of a cluster can be told apart. */
  @Matches(/^[a-zA-Z0-9_.-]{1,64}$/, { message: 'must be 1-64 letters, digits, ., - or _' })
  BROKER_ID = `${hostname()}-${process.pid}`;

  /**
   * `true` runs the broker on Redis (mqemitter-redis, aedes-persistence-redis) so that several
   * instances behind a TCP load balancer form one broker; `false` keeps it in memory.
   */
  @IsIn(['true', 'false'])
  CLUSTER: 'true' | 'false' = 'false';

  /** How long a frozen subscriber may hold a delivery before Aedes drops it. */
  @Transform(toInt) @IsInt() @Min(1000) @Max(600_000)
  BROKER_DRAIN_TIMEOUT_MS = 10_000;

  @Matches(/^[a-z0-9][a-z0-9._-]{2,63}$/, { message: 'must be 3-64 lowercase letters, digits, ., - or _' })
  ADMIN_USERNAME: string;

  @IsString() @MinLength(8, { message: 'must be at least 8 characters' })
  ADMIN_PASSWORD: string;

  @IsString() @MinLength(16, { message: 'must be at least 16 characters' })
  JWT_SECRET: string;

  /** Lifetime of an access token; the dashboard renews it with its refresh token. */
  @Transform(toInt) @IsInt() @Min(60) @Max(30 * 86_400)
  JWT_TTL_S = 15 * 60;

  /** Lifetime of a refresh token (each use replaces it with a new one). */
  @Transform(toInt) @IsInt() @Min(300) @Max(90 * 86_400)
  REFRESH_TTL_S = 7 * 86_400;

  /** Failed logins allowed per username within LOGIN_THROTTLE_WINDOW_S before 429. */
  @Transform(toInt) @IsInt() @Min(1) @Max(1000)
  LOGIN_MAX_FAILURES_PER_USER = 5;

  /** Failed logins allowed per client IP within LOGIN_THROTTLE_WINDOW_S before 429. */
  @Transform(toInt) @IsInt() @Min(1) @Max(100_000)
  LOGIN_MAX_FAILURES_PER_IP = 30;

  @Transform(toInt) @IsInt() @Min(1) @Max(86_400)
  LOGIN_THROTTLE_WINDOW_S = 15 * 60;

  /** Whether to believe X-Forwarded-For (only behind a proxy you run). */
  @IsIn(['true', 'false'])
  TRUST_PROXY: 'true' | 'false' = 'false';

  @Transform(toInt) @IsInt() @Min(1) @Max(3600)
  HEARTBEAT_INTERVAL_S = 30;

  @Transform(toInt) @IsInt() @Min(0) @Max(3600)
  OFFLINE_GRACE_S = 15;

  /**
   * Each instance renews a lease in Redis this long, three times per period. When one lapses
   * (the process died without recording its disconnects), the devices it held start their
   * offline grace period at the next sweep instead of waiting for their heartbeat deadline.
   */
  @Transform(toInt) @IsInt() @Min(3) @Max(300)
  INSTANCE_LEASE_S = 10;

  /** How often the cluster-wide liveness sweep runs. */
  @Transform(toInt) @IsInt() @Min(1) @Max(300)
  LIVENESS_SWEEP_S = 2;

  /** Heartbeat telemetry is buffered this long, then persisted as one batch. */
  @Transform(toInt) @IsInt() @Min(50) @Max(60_000)
  TELEMETRY_FLUSH_MS = 2000;

  @IsString() @MinLength(1)
  DEVICE_TIMEZONE = 'Asia/Ho_Chi_Minh';

  @IsIn(LOG_LEVELS)
  LOG_LEVEL: LogLevelName = 'log';

  /** Where uploaded audio is stored (local media storage). */
  @IsString() @MinLength(1)
  MEDIA_DIR = './var/media';

  /** Largest audio upload accepted; larger ones get 413. */
  @Transform(toInt) @IsInt() @Min(1024) @Max(2 * 1024 ** 3)
  MEDIA_MAX_BYTES = 100 * 1024 * 1024;

  /** Lifetime of the signed media URL sent to devices; the protocol asks for at least 24 h. */
  @Transform(toInt) @IsInt() @Min(86_400) @Max(30 * 86_400)
  MEDIA_TOKEN_TTL_S = 3 * 86_400;

  /** How devices reach Loa's HTTP API; the base of the media URLs they are sent. */
  @Matches(/^https?:\/\/[^\s/]+(\/\S*)?$/, { message: 'must be an http(s):// URL' })
  PUBLIC_URL = 'http://localhost:3000';

  /** How far ahead occurrences are materialised and put into device schedules. */
  @Transform(toInt) @IsInt() @Min(48) @Max(24 * 31)
  SCHEDULE_HORIZON_H = 72;

  /** A scheduled play with no `started` event this long after its start time is marked missed. */
  @Transform(toInt) @IsInt() @Min(1) @Max(3600)
  MISSED_GRACE_S = 60;

  /** First wait before an unacknowledged `play` command is re-sent to a device; it then doubles, up to 60 s. */
  @Transform(toInt) @IsInt() @Min(1) @Max(300)
  PLAY_RETRY_S = 5;

  /** Seeds the demo area tree (Bắc Kạn) on an empty database. */
  @IsIn(['true', 'false'])
  SEED_DEMO_AREAS: 'true' | 'false' = 'false';

  /** How many live events the stream keeps for clients resuming with Last-Event-ID. */
  @Transform(toInt) @IsInt() @Min(100) @Max(10_000_000)
  EVENTS_RETAIN = 100_000;

  /** A comment line is sent on idle event streams this often, so proxies keep them open. */
  @Transform(toInt) @IsInt() @Min(1) @Max(300)
  EVENTS_KEEPALIVE_S = 15;

  /** Default offline time before an alarm opens; areas may set their own. */
  @Transform(toInt) @IsInt() @Min(1) @Max(30 * 86_400)
  ALARM_OFFLINE_AFTER_S = 600;

  /** An open alarm clears only after its device has stayed online this long (damps flapping). */
  @Transform(toInt) @IsInt() @Min(0) @Max(86_400)
  ALARM_CLEAR_AFTER_S = 120;

  /** How often the cluster-wide alarm sweep runs. */
  @Transform(toInt) @IsInt() @Min(1) @Max(600)
  ALARM_SWEEP_S = 15;

  /** Attempts per webhook delivery before it is dead-lettered. */
  @Transform(toInt) @IsInt() @Min(1) @Max(50)
  WEBHOOK_MAX_ATTEMPTS = 8;

  /** First retry delay of a failed webhook delivery; it doubles each attempt. */
  @Transform(toInt) @IsInt() @Min(10) @Max(3_600_000)
  WEBHOOK_BACKOFF_MS = 2000;

  @Transform(toInt) @IsInt() @Min(100) @Max(120_000)
  WEBHOOK_TIMEOUT_MS = 10_000;

  /** When set, GET /metrics needs `Authorization: Bearer <METRICS_TOKEN>`. */
  @IsString()
  METRICS_TOKEN = '';
}

export class ConfigError extends Error {}

const SECRET_KEYS = new Set(['ADMIN_PASSWORD', 'JWT_SECRET', 'DATABASE_URL', 'REDIS_URL', 'METRICS_TOKEN']);

/** Validates `env` into an AppConfig; throws a ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const known = Object.keys(new AppConfig());
  const required = ['DATABASE_URL', 'REDIS_URL', 'ADMIN_USERNAME', 'ADMIN_PASSWORD', 'JWT_SECRET'];
  const input: Record<string, string> = {};
  for (const key of [...known, ...required]) {
    const value = env[key];
    if (value !== undefined && value !== '') input[key] = value;
  }
  for (const key of required) {
    if (input[key] === undefined) throw new ConfigError(`${key} is required but not set`);
  }
  const config = plainToInstance(AppConfig, input);
  const [first] = validateSync(config);
  if (first) {
    // A wrong type explains a value better than the range it then also misses.
    const constraints = first.constraints ?? {};
    const reason = constraints.isInt ?? Object.values(constraints)[0] ?? 'is invalid';
    const message = reason.startsWith(first.property) ? reason : `${first.property} ${reason}`;
    const shown = SECRET_KEYS.has(first.property) ? '' : ` (got ${JSON.stringify(String(first.value))})`;
    throw new ConfigError(message + shown);
  }
  return config;
}
