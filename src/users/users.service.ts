import { BadRequestException, ConflictException, Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, type EntityManager, Repository } from 'typeorm';
import { Area } from '../areas/area.entity.js';
import { OperatorAuthenticator } from '../auth/operator-authenticator.js';
import type { Principal } from '../auth/principal.js';
import { SessionsService } from '../auth/sessions.service.js';
import { User, type UserRole } from '../auth/user.entity.js';
import { pageOf, type Page } from '../common/page.js';
import { escapeLike, isForeignKeyViolation, isUniqueViolation } from '../common/postgres.js';
import { HASH_COST, hashSecret } from '../common/secret-hash.js';
import { toUserDto, type CreateUserDto, type ListUsersQueryDto, type UpdateUserDto, type UserDto } from './dto/user.dto.js';

/**
 * Operator accounts, managed by admins. Any change to what a user may do or how they prove
 * who they are (role, area, password) ends their logins, so it applies at their next request.
 */
@Injectable()
export class UsersService {
  private readonly logger = new Logger(UsersService.name);

  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    @InjectRepository(User) private readonly users: Repository<User>,
    @InjectRepository(Area) private readonly areas: Repository<Area>,
    @Inject(SessionsService) private readonly sessions: SessionsService,
    @Inject(OperatorAuthenticator) private readonly authenticator: OperatorAuthenticator,
  ) {}

  async create(dto: CreateUserDto, by: Principal): Promise<UserDto> {
    const area = await this.areaFor(dto.role, dto.areaCode ?? null);
    const passwordHash = await hashSecret(dto.password, HASH_COST.password);
    let id: string;
    try {
      const inserted = await this.users.insert({ username: dto.username, passwordHash, role: dto.role, areaId: area?.id ?? null });
      id = (inserted.identifiers[0] as { id: string }).id;
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictException({ error: 'username-taken', message: `username ${dto.username} is taken` });
      if (isForeignKeyViolation(err)) throw unknownArea(dto.areaCode ?? '');
      throw err;
    }
    this.logger.log(`user "${dto.username}" (${dto.role}${area ? ` of ${area.code}` : ''}) created by "${by.username}"`);
    return this.get(id);
  }

  async list(query: ListUsersQueryDto): Promise<Page<UserDto>> {
    const qb = this.users
      .createQueryBuilder('u')
      .leftJoinAndSelect('u.area', 'a')
      .orderBy('u.username')
      .offset(query.skip)
      .limit(query.pageSize);
    if (query.role) qb.andWhere('u.role = :role', { role: query.role });
    if (query.areaCode) {
      const area = await this.areas.findOne({ where: { code: query.areaCode } });
      if (!area) throw unknownArea(query.areaCode);
      qb.andWhere('a.path LIKE :path', { path: `${escapeLike(area.path)}%` });
    }
    if (query.q) qb.andWhere('u.username ILIKE :q', { q: `%${escapeLike(query.q.trim())}%` });
    const [rows, total] = await qb.getManyAndCount();
    return pageOf(rows.map(toUserDto), total, query);
  }

  async get(id: string): Promise<UserDto> {
    return toUserDto(await this.find(id));
  }

  async update(id: string, dto: UpdateUserDto, by: Principal): Promise<UserDto> {
    const current = await this.find(id);
    const role = dto.role ?? current.role;
    // Promotion to admin means the whole country: the old area goes unless one is named (which is then refused).
    const areaCode = dto.areaCode !== undefined ? dto.areaCode : role === 'admin' ? null : (current.area?.code ?? null);
    const area = await this.areaFor(role, areaCode);
    const changes: Partial<Pick<User, 'role' | 'areaId' | 'passwordHash'>> = {};
    if (role !== current.role) changes.role = role;
    if ((area?.id ?? null) !== current.areaId) changes.areaId = area?.id ?? null;
    if (dto.password !== undefined) changes.passwordHash = await hashSecret(dto.password, HASH_COST.password);
    if (Object.keys(changes).length === 0) return toUserDto(current);

    await this.db.transaction(async (m) => {
      if (current.role === 'admin' && role !== 'admin') await this.assertAnotherAdmin(m, id, 'demote');
      await m.update(User, { id }, changes);
      await this.sessions.endAll(m, id);
    });
    this.authenticator.forget(id);
    const what = [changes.role && `role ${role}`, 'areaId' in changes && `area ${area?.code ?? 'none'}`, changes.passwordHash && 'password']
      .filter(Boolean)
      .join(', ');
    this.logger.log(`user "${current.username}" changed by "${by.username}" (${what}); their logins were ended`);
    return this.get(id);
  }

  async remove(id: string, by: Principal): Promise<void> {
    if (id === by.userId) throw new ConflictException({ error: 'self-delete', message: 'you cannot delete your own account; ask another admin' });
    const user = await this.find(id);
    try {
      await this.db.transaction(async (m) => {
        if (user.role === 'admin') await this.assertAnotherAdmin(m, id, 'delete');
        await m.delete(User, { id });
      });
    } catch (err) {
      if (isForeignKeyViolation(err)) {
        throw new ConflictException({ error: 'in-use', message: `user ${user.username} is still referenced by other records; change their role instead` });
      }
      throw err;
    }
    this.authenticator.forget(id);
    this.logger.log(`user "${user.username}" deleted by "${by.username}"`);
  }

  private async find(id: string): Promise<User> {
    const user = await this.users.findOne({ where: { id }, relations: { area: true } });
    if (!user) throw new NotFoundException({ error: 'not-found', message: `user ${id} not found` });
    return user;
  }

  /** The area a user of `role` is bound to: none for admins, an existing one for everyone else. */
  private async areaFor(role: UserRole, areaCode: string | null): Promise<Area | null> {
    if (role === 'admin') {
      if (areaCode !== null) throw validation('an admin acts on the whole country and has no area: send areaCode null');
      return null;
    }
    if (areaCode === null) throw validation(`areaCode is required for role ${role}: the area the user may act on`);
    const area = await this.areas.findOne({ where: { code: areaCode } });
    if (!area) throw unknownArea(areaCode);
    return area;
  }

  /**
   * Locks every admin row, so two admins demoting or deleting each other at once cannot
   * both succeed and leave nobody able to manage accounts.
   */
  private async assertAnotherAdmin(m: EntityManager, userId: string, action: 'demote' | 'delete'): Promise<void> {
    const admins = (await m.query(`SELECT id FROM users WHERE role = 'admin' FOR UPDATE`)) as { id: string }[];
    if (!admins.some((a) => a.id !== userId)) {
      throw new ConflictException({ error: 'last-admin', message: `cannot ${action} the last admin; make another user admin first` });
    }
  }
}

function validation(message: string): BadRequestException {
  return new BadRequestException({ error: 'validation', message: [message] });
}

function unknownArea(code: string): BadRequestException {
  return new BadRequestException({ error: 'unknown-area', message: `area ${code} does not exist` });
}
