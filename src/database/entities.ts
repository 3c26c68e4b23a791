import { AlarmThreshold } from '../alarms/alarm-threshold.entity.js';
import { Alarm } from '../alarms/alarm.entity.js';
import { WebhookDelivery } from '../alarms/webhooks/webhook-delivery.entity.js';
import { Webhook } from '../alarms/webhooks/webhook.entity.js';
import { Area } from '../areas/area.entity.js';
import { AuditEntry } from '../audit/audit-entry.entity.js';
import { RefreshToken } from '../auth/refresh-token.entity.js';
import { User } from '../auth/user.entity.js';
import { BroadcastTarget } from '../broadcasts/broadcast-target.entity.js';
import { Broadcast } from '../broadcasts/broadcast.entity.js';
import { Delivery } from '../broadcasts/delivery.entity.js';
import { Occurrence } from '../broadcasts/occurrence.entity.js';
import { PlaybackEventRecord } from '../broadcasts/playback-event.entity.js';
import { Bulletin } from '../bulletins/bulletin.entity.js';
import { DeviceCommand } from '../devices/device-command.entity.js';
import { DeviceStateChange } from '../devices/device-state-change.entity.js';
import { Device } from '../devices/device.entity.js';
import { Media } from '../media/media.entity.js';

export const ENTITIES = [
  Area,
  Device,
  DeviceStateChange,
  DeviceCommand,
  User,
  RefreshToken,
  Media,
  Bulletin,
  Broadcast,
  BroadcastTarget,
  Occurrence,
  Delivery,
  PlaybackEventRecord,
  Alarm,
  AlarmThreshold,
  Webhook,
  WebhookDelivery,
  AuditEntry,
];
