import { Inject, Injectable, Logger, OnApplicationBootstrap, UnauthorizedException } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AppConfig } from '../config/app-config.js';
import { HASH_COST, hashSecret, verifySecret } from '../common/secret-hash.js';
import type { TokenDto } from './dto/login.dto.js';
import { User } from './user.entity.js';

@Injectable()
export class AuthService implements OnApplicationBootstrap {
  private readonly logger = new Logger(AuthService.name);
  /** Compared against when the username is unknown, so both failures take the same time. */
  private dummyHash: Promise<string> | null = null;

  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    @Inject(JwtService) private readonly jwt: JwtService,
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

  async login(username: string, password: string): Promise<TokenDto> {
    const user = await this.users.findOne({ where: { username }, relations: { area: true } });
    this.dummyHash ??= hashSecret('not-a-password', HASH_COST.password);
    const valid = await verifySecret(password, user?.passwordHash ?? (await this.dummyHash));
    if (!user || !valid) throw new UnauthorizedException('wrong username or password');
    const accessToken = await this.jwt.signAsync({
      sub: user.id,
      username: user.username,
      role: user.role,
      areaCode: user.area?.code ?? null,
      areaPath: user.area?.path ?? null,
    });
    return { accessToken, tokenType: 'Bearer', expiresIn: this.config.JWT_TTL_S };
  }
}
