import { ConfigError, loadConfig } from './app-config.js';

const valid = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/loa',
  REDIS_URL: 'redis://127.0.0.1:6379',
  ADMIN_USERNAME: 'admin',
  ADMIN_PASSWORD: 'long-enough',
  JWT_SECRET: '0123456789abcdef',
};

describe(loadConfig.name, () => {
  it('fills in the documented defaults', () => {
    const config = loadConfig(valid);

    expect(config).toMatchObject({
      PORT: 3000,
      MQTT_PORT: 1883,
      HEARTBEAT_INTERVAL_S: 30,
      OFFLINE_GRACE_S: 15,
      REDIS_PREFIX: 'loa',
      DEVICE_TIMEZONE: 'Asia/Ho_Chi_Minh',
    });
  });

  it('turns numeric variables into numbers', () => {
    expect(loadConfig({ ...valid, MQTT_PORT: '1884', OFFLINE_GRACE_S: '0' })).toMatchObject({ MQTT_PORT: 1884, OFFLINE_GRACE_S: 0 });
  });

  it.each([
    [{ DATABASE_URL: undefined }, 'DATABASE_URL is required but not set'],
    [{ JWT_SECRET: '' }, 'JWT_SECRET is required but not set'],
    [{ PORT: 'eighty' }, 'PORT must be an integer number (got "eighty")'],
    [{ MQTT_PORT: '70000' }, 'MQTT_PORT must not be greater than 65535 (got "70000")'],
    [{ HEARTBEAT_INTERVAL_S: '0' }, 'HEARTBEAT_INTERVAL_S must not be less than 1 (got "0")'],
    [{ REDIS_URL: 'localhost:6379' }, 'REDIS_URL must be a redis:// URL'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL must be one of the following values'],
  ])('stops with one line naming the bad variable: %o', (override, message) => {
    expect(() => loadConfig({ ...valid, ...override })).toThrow(ConfigError);
    expect(() => loadConfig({ ...valid, ...override })).toThrow(message);
  });

  it('never echoes a secret in its error', () => {
    expect(() => loadConfig({ ...valid, ADMIN_PASSWORD: 'short' })).toThrow(/^ADMIN_PASSWORD must be at least 8 characters$/);
  });
});
