import { Inject, Injectable, Logger } from '@nestjs/common';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { AppConfig } from '../config/app-config.js';
import { RedisService } from '../redis/redis.module.js';
import { clientKey } from './client-key.js';
import { TooManyAttemptsException } from './too-many-attempts.js';

/** One admitted login attempt, to be reported as failed or succeeded. */
export interface LoginAttempt {
  username: string;
  ip: string;
  byUser: RateLimiterRes;
  byIp: RateLimiterRes;
}

/**
 * Failed logins per username and per client IP, in Redis so every instance counts together.
 *
 * An attempt is counted BEFORE the password is checked (one atomic increment) and given
 * back when it succeeds: checking first and counting after would let a burst of parallel
 * guesses all pass the check. Unknown usernames are counted like real ones, so a 429 says
 * nothing about whether an account exists.
 */
@Injectable()
export class LoginThrottle {
  private readonly logger = new Logger(LoginThrottle.name);
  private readonly byUser: RateLimiterRedis;
  private readonly byIp: RateLimiterRedis;

  constructor(@Inject(RedisService) redis: RedisService, @Inject(AppConfig) private readonly config: AppConfig) {
    const common = { storeClient: redis.client, duration: config.LOGIN_THROTTLE_WINDOW_S };
    this.byUser = new RateLimiterRedis({ ...common, keyPrefix: redis.key('login-failures', 'user'), points: config.LOGIN_MAX_FAILURES_PER_USER });
    this.byIp = new RateLimiterRedis({ ...common, keyPrefix: redis.key('login-failures', 'ip'), points: config.LOGIN_MAX_FAILURES_PER_IP });
  }

  /** Counts the attempt as a failure up front; 429 when the username or the IP is over its limit. */
  async admit(username: string, clientIp: string): Promise<LoginAttempt> {
    const key = username.toLowerCase();
    const ip = clientKey(clientIp);
    const byIp = await this.consume(this.byIp, ip);
    if (!byIp.admitted) throw new TooManyAttemptsException(retryAfterS(byIp.res));
    const byUser = await this.consume(this.byUser, key);
    if (!byUser.admitted) {
      // Refused without a password check: it should not use up the IP's allowance (one NAT may serve a whole office).
      await this.byIp.reward(ip, 1);
      throw new TooManyAttemptsException(retryAfterS(byUser.res));
    }
    return { username: key, ip, byUser: byUser.res, byIp: byIp.res };
  }

  failed(attempt: LoginAttempt): void {
    const window = this.config.LOGIN_THROTTLE_WINDOW_S;
    if (attempt.byUser.consumedPoints === this.config.LOGIN_MAX_FAILURES_PER_USER) {
      this.logger.warn(
        `login: username "${attempt.username}" blocked for ${retryAfterS(attempt.byUser)} s after ${attempt.byUser.consumedPoints} failed attempts in ${window} s (last from ${attempt.ip})`,
      );
    }
    if (attempt.byIp.consumedPoints === this.config.LOGIN_MAX_FAILURES_PER_IP) {
      this.logger.warn(
        `login: client ${attempt.ip} blocked for ${retryAfterS(attempt.byIp)} s after ${attempt.byIp.consumedPoints} failed attempts in ${window} s (last as "${attempt.username}"); if it is a shared office gateway, raise LOGIN_MAX_FAILURES_PER_IP or check TRUST_PROXY`,
      );
    }
  }

  /** A correct password clears the username's failures and gives the IP its attempt back. */
  async succeeded(attempt: LoginAttempt): Promise<void> {
    await Promise.all([this.byUser.delete(attempt.username), this.byIp.reward(attempt.ip, 1)]);
  }

  private async consume(limiter: RateLimiterRedis, key: string): Promise<{ admitted: boolean; res: RateLimiterRes }> {
    try {
      return { admitted: true, res: await limiter.consume(key, 1) };
    } catch (rejection) {
      // The limiter rejects with a RateLimiterRes when over the limit, with an Error when Redis fails.
      if (rejection instanceof RateLimiterRes) return { admitted: false, res: rejection };
      throw rejection;
    }
  }
}

function retryAfterS(res: RateLimiterRes): number {
  return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
}
