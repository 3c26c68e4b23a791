import {
  ConflictException,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
} from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AreasService } from '../areas/areas.service.js';
import type { Principal } from '../auth/principal.js';
import { inScope, scopeLikePattern } from '../auth/scope.js';
import { pageOf, type Page } from '../common/page.js';
import { escapeLike, isUniqueViolation } from '../common/postgres.js';
import { HASH_COST, hashSecret, newDeviceSecret } from '../common/secret-hash.js';
import { DeviceConfigPublisher } from './device-config.publisher.js';
import { DeviceCredentials } from './device-credentials.service.js';
import { DeviceInbox } from './device-inbox.js';
import { DeviceStateChange } from './device-state-change.entity.js';
import { Device } from './device.entity.js';
import {
  toDeviceDto,
  type CreateDeviceDto,
  type DeviceDto,
  type ListDevicesQueryDto,
  type ProvisionedDeviceDto,
  type SecretDto,
  type StateChangeDto,
  type StateChangesQueryDto,
  type UpdateDeviceDto,
} from './dto/device.dto.js';
import { LivenessStore } from './liveness/liveness.store.js';
import { StateRecorder } from './liveness/state-recorder.service.js';
import { TelemetryBuffer } from './telemetry-buffer.service.js';

/** The device registry: provisioning, credentials, and the read model operators see. */
@Injectable()
export class DevicesService {
  private readonly logger = new Logger(DevicesService.name);

  constructor(
    @InjectRepository(Device) private readonly devices: Repository<Device>,
    @InjectRepository(DeviceStateChange) private readonly stateChanges: Repository<DeviceStateChange>,
    @Inject(AreasService) private readonly areas: AreasService,
    @Inject(DeviceCredentials) private readonly credentials: DeviceCredentials,
    @Inject(DeviceConfigPublisher) private readonly configPublisher: DeviceConfigPublisher,
    @Inject(LivenessStore) private readonly liveness: LivenessStore,
    @Inject(StateRecorder) private readonly recorder: StateRecorder,
    @Inject(TelemetryBuffer) private readonly telemetry: TelemetryBuffer,
    @Inject(DeviceInbox) private readonly inbox: DeviceInbox,
  ) {}

  async provision(dto: CreateDeviceDto, principal: Principal): Promise<ProvisionedDeviceDto> {
    const area = await this.areas.referencedArea(dto.areaCode, principal);
    const secret = newDeviceSecret();
    const device = this.devices.create({
      code: dto.code,
      name: dto.name,
      areaId: area.id,
      latitude: dto.latitude ?? null,
      longitude: dto.longitude ?? null,
      volume: dto.volume ?? 80,
      secretHash: await hashSecret(secret, HASH_COST.deviceSecret),
      secretRotatedAt: new Date(),
    });
    try {
      await this.devices.insert(device);
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictException({ error: 'conflict', message: `device code ${dto.code} is taken` });
      throw err;
    }
    // A connect attempt before provisioning may have cached the code as unknown.
    await this.credentials.invalidate(device.code, { disconnect: false });
    await this.configPublisher.publish(device);
    this.logger.log(`device ${device.code} provisioned in area ${area.code}`);
    this.inbox.placed(device.id);
    const saved = await this.findOrFail(device.code, principal);
    return { ...(await this.present([saved]))[0], secret };
  }

  async list(query: ListDevicesQueryDto, principal: Principal): Promise<Page<DeviceDto>> {
    const qb = this.devices
      .createQueryBuilder('d')
      .innerJoinAndSelect('d.area', 'a')
      .where('d.decommissioned_at IS NULL')
      .orderBy('d.code')
      .skip(query.skip)
      .take(query.pageSize);
    const scope = scopeLikePattern(principal);
    if (scope) qb.andWhere('a.path LIKE :scope', { scope });
    if (query.state) qb.andWhere('d.state = :state', { state: query.state });
    if (query.areaCode) {
      const area = await this.areas.referencedArea(query.areaCode, principal);
      qb.andWhere('a.path LIKE :prefix', { prefix: `${escapeLike(area.path)}%` });
    }
    if (query.q) {
      qb.andWhere('(d.code ILIKE :q OR d.name ILIKE :q)', { q: `%${escapeLike(query.q)}%` });
    }
    const [rows, total] = await qb.getManyAndCount();
    return pageOf(await this.present(rows), total, query);
  }

  async get(code: string, principal: Principal): Promise<DeviceDto> {
    return (await this.present([await this.findOrFail(code, principal)]))[0];
  }

  async update(code: string, dto: UpdateDeviceDto, principal: Principal): Promise<DeviceDto> {
    const device = await this.findActiveOrFail(code, principal);
    const moved = dto.areaCode !== undefined && dto.areaCode !== device.area.code;
    if (moved) {
      device.area = await this.areas.referencedArea(dto.areaCode!, principal);
      device.areaId = device.area.id;
    }
    if (dto.name !== undefined) device.name = dto.name;
    if (dto.latitude !== undefined) device.latitude = dto.latitude;
    if (dto.longitude !== undefined) device.longitude = dto.longitude;
    const volumeChanged = dto.volume !== undefined && dto.volume !== device.volume;
    if (dto.volume !== undefined) device.volume = dto.volume;
    await this.devices.save(device);
    // Its area topics are granted at CONNECT: a moved device must reconnect to get the new ones.
    if (moved) {
      await this.credentials.invalidate(code, { disconnect: true });
      this.inbox.placed(device.id);
    }
    if (volumeChanged) await this.configPublisher.publish(device);
    return this.get(code, principal);
  }

  async decommission(code: string, principal: Principal): Promise<void> {
    const device = await this.findOrFail(code, principal);
    if (device.decommissionedAt) return;
    await this.devices.update({ id: device.id }, { decommissionedAt: new Date() });
    await this.credentials.invalidate(code, { disconnect: true });
    await this.liveness.decommissioned(code);
    await this.recorder.drain();
    await this.configPublisher.clear(code);
    this.logger.log(`device ${code} decommissioned; its session was closed`);
  }

  async rotateSecret(code: string, principal: Principal): Promise<SecretDto> {
    const device = await this.findActiveOrFail(code, principal);
    const secret = newDeviceSecret();
    await this.devices.update(
      { id: device.id },
      { secretHash: await hashSecret(secret, HASH_COST.deviceSecret), secretRotatedAt: new Date() },
    );
    await this.credentials.invalidate(code, { disconnect: true });
    this.logger.log(`device ${code}: secret rotated, live session closed`);
    return { code, secret };
  }

  async history(code: string, query: StateChangesQueryDto, principal: Principal): Promise<Page<StateChangeDto>> {
    const device = await this.findOrFail(code, principal);
    const [rows, total] = await this.stateChanges.findAndCount({
      where: { deviceId: device.id },
      order: { at: 'DESC', seq: 'DESC' },
      skip: query.skip,
      take: query.pageSize,
    });
    const items = rows.map((r) => ({ from: r.from, to: r.to, cause: r.cause, at: r.at.toISOString() }));
    return pageOf(items, total, query);
  }

  private async present(devices: Device[]): Promise<DeviceDto[]> {
    const codes = devices.map((d) => d.code);
    const [live, rejected] = await Promise.all([this.liveness.snapshot(codes), this.telemetry.rejectedCounts(codes)]);
    return devices.map((d) => toDeviceDto(d, live.get(d.code)?.lastSeenMs ?? null, rejected.get(d.code) ?? 0));
  }

  /** A device outside the caller's subtree is answered exactly like a missing one. */
  private async findOrFail(code: string, principal: Principal): Promise<Device> {
    const device = await this.devices.findOne({ where: { code }, relations: { area: true } });
    if (!device || !inScope(principal, device.area.path)) throw new NotFoundException(`device ${code} not found`);
    return device;
  }

  private async findActiveOrFail(code: string, principal: Principal): Promise<Device> {
    const device = await this.findOrFail(code, principal);
    if (device.decommissionedAt) throw new ConflictException({ error: 'conflict', message: `device ${code} is decommissioned` });
    return device;
  }
}
