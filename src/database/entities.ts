import { Area } from '../areas/area.entity.js';
import { User } from '../auth/user.entity.js';
import { DeviceStateChange } from '../devices/device-state-change.entity.js';
import { Device } from '../devices/device.entity.js';

export const ENTITIES = [Area, Device, DeviceStateChange, User];
