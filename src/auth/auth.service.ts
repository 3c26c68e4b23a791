import { BadRequestException, Inject, Injectable, Logger, NotFoundException, OnApplicationBootstrap, UnauthorizedException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { AppConfig } from '../config/app-config.js';
import { HASH_COST, hashSecret, verifySecret } from '../common/secret-hash.js';
import { toAccountDto, type AccountDto } from './dto/account.dto.js';
import type { TokenDto } from './dto/login.dto.js';
import { LoginThrottle } from './login-throttle.service.js';
import { OperatorAuthenticator } from './operator-authenticator.js';
import type { Principal } from './principal.js';
import { SessionsService } from './sessions.service.js';
import { User } from './user.entity.js';

@Injectable()
export class AuthService implements OnApplicationBootstrap {
  private readonly logger = new Logger(AuthService.name);
  /** Compared against when the username is unknown, so both failures take the same time. */
  private dummyHash: Promise<string> | null = null;

  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    @InjectRepository(User) private readonly users: Repository<User>,
    @Inject(SessionsService) private readonly sessions: SessionsService,
    @Inject(LoginThrottle) private readonly throttle: LoginThrottle,
    @Inject(OperatorAuthenticator) private readonly authenticator: OperatorAuthenticator,
    @Inject(AppConfig) private readonly config: AppConfig,
  ) {}

  /** The first admin comes from the environment, once, on an empty users table. */
  async onApplicationBootstrap(): Promise<void> {
    if ((await this.users.count()) > 0) return;
    const passwordHash = await hashSecret(this.config.ADMIN_PASSWORD, HASH_COST.password);
    await this.users
      .createQueryBuilder()
      .insert()
      .values({ username: this.config.ADMIN_USERNAME, passwordHash, role: 'admin', areaId: null })
      .orIgnore()
      .execute();
    this.logger.log(`created first admin "${this.config.ADMIN_USERNAME}" from ADMIN_USERNAME/ADMIN_PASSWORD`);
  }

  /** 429 before any password check while the username or the client IP is throttled. */
  async login(username: string, password: string, ip: string): Promise<TokenDto> {
    const name = username.trim().toLowerCase();
    const attempt = await this.throttle.admit(name, ip);
    const user = await this.users.findOne({ where: { username: name }, relations: { area: true } });
    const valid = await this.passwordMatches(user, password);
    if (!user || !valid) {
      this.throttle.failed(attempt);
      throw new UnauthorizedException({ error: 'invalid-credentials', message: 'wrong username or password' });
    }
    await this.throttle.succeeded(attempt);
    return this.sessions.open(user);
  }

  refresh(refreshToken: string): Promise<TokenDto> {
    return this.sessions.rotate(refreshToken);
  }

  logout(principal: Principal, refreshToken: string): Promise<void> {
    return this.sessions.close(principal.userId, refreshToken);
  }

  async me(principal: Principal): Promise<AccountDto> {
    const user = await this.users.findOne({ where: { id: principal.userId }, relations: { area: true } });
    // Deleted between the guard's check and this read.
    if (!user) throw new NotFoundException({ error: 'not-found', message: 'your account no longer exists' });
    return toAccountDto(user);
  }

  /**
   * Ends every login of the user, this one included: the client logs in again with the new
   * password. Wrong current passwords are throttled like logins, so a stolen access token
   * cannot be used to guess the password.
   */
  async changePassword(principal: Principal, currentPassword: string, newPassword: string, ip: string): Promise<void> {
    const user = await this.users.findOne({ where: { id: principal.userId } });
    if (!user) throw new NotFoundException({ error: 'not-found', message: 'your account no longer exists' });
    const attempt = await this.throttle.admit(user.username, ip);
    if (!(await verifySecret(currentPassword, user.passwordHash))) {
      this.throttle.failed(attempt);
      throw new BadRequestException({ error: 'wrong-password', message: 'currentPassword is not your current password' });
    }
    await this.throttle.succeeded(attempt);
    if (newPassword === currentPassword) {
      throw new BadRequestException({ error: 'validation', message: ['newPassword must differ from currentPassword'] });
    }
    const passwordHash = await hashSecret(newPassword, HASH_COST.password);
    await this.db.transaction(async (m) => {
      await m.update(User, { id: user.id }, { passwordHash });
      await this.sessions.endAll(m, user.id);
    });
    this.authenticator.forget(user.id);
    this.logger.log(`user "${user.username}" changed their password; all their logins were ended`);
  }

  private async passwordMatches(user: User | null, password: string): Promise<boolean> {
    this.dummyHash ??= hashSecret('not-a-password', HASH_COST.password);
    return verifySecret(password, user?.passwordHash ?? (await this.dummyHash));
  }
}
