import { isUuid } from '../common/uuid.js';

/**
 * What an audited route acts on, read from its route pattern alone, so routes added later
 * are covered without registering anything: `/api/v1/<collection>[/:param[/<verb or
 * sub-collection>]]`.
 */

export interface AuditSubject {
  /** `bulletin.approve`, `device.create`, `device-command.create` (on its device), `auth.login` … */
  action: string;
  resourceType: string | null;
  /** The route parameter naming the resource (`id`, `code`, `areaCode`), when there is one. */
  param: string | null;
  /** True when the resource named by `param` is what the call changes (so a before-image is worth reading). */
  changesParamResource: boolean;
}

/** Collection segment → resource type. Unlisted collections keep their segment as the type. */
const RESOURCE_TYPES: Record<string, string> = {
  areas: 'area',
  devices: 'device',
  media: 'media',
  bulletins: 'bulletin',
  broadcasts: 'broadcast',
  users: 'user',
  alarms: 'alarm',
  'alarm-thresholds': 'alarm-threshold',
  webhooks: 'webhook',
  auth: 'user',
  commands: 'command',
  occurrences: 'occurrence',
};

const VERB_OF_METHOD: Record<string, string> = { POST: 'create', PUT: 'set', PATCH: 'update', DELETE: 'delete' };

/** Segments after a `:param` that name a collection of their own rather than an action. */
const SUB_COLLECTIONS = new Set(['commands']);

/** Segments after a collection that name a kind of its resource rather than an action: `/media/streams`. */
const KINDS: Record<string, string> = { streams: 'stream' };

export function auditSubjectOf(method: string, routePath: string): AuditSubject {
  const segments = routePath.replace(/^\/api\/v1\//, '').split('/').filter(Boolean);
  const [collection = 'root', second, third] = segments;
  const type = RESOURCE_TYPES[collection] ?? collection;
  const byMethod = VERB_OF_METHOD[method] ?? method.toLowerCase();
  if (collection === 'auth') {
    return { action: `auth.${second ?? byMethod}`, resourceType: 'user', param: null, changesParamResource: false };
  }
  if (second === undefined) return { action: `${type}.${byMethod}`, resourceType: type, param: null, changesParamResource: false };
  if (!second.startsWith(':')) {
    // `/areas/import`, `/broadcasts/emergency`; `/media/streams` → `media.create-stream`
    const action = KINDS[second] ? `${type}.${byMethod}-${KINDS[second]}` : `${type}.${second}`;
    return { action, resourceType: type, param: null, changesParamResource: false };
  }
  const param = second.slice(1);
  if (third === undefined) return { action: `${type}.${byMethod}`, resourceType: type, param, changesParamResource: true };
  if (SUB_COLLECTIONS.has(third)) {
    // The resource is the parent the path names (what a filter by device finds); the new
    // item's own id is in the after-image.
    const sub = `${type}-${RESOURCE_TYPES[third] ?? third}`;
    return { action: `${sub}.${byMethod}`, resourceType: type, param, changesParamResource: false };
  }
  return { action: `${type}.${third}`, resourceType: type, param, changesParamResource: true };
}

/**
 * How to read a resource's before-image: one row as JSON, credentials left out. Types not
 * listed get no before-image (their after-image still tells what happened).
 */
export const BEFORE_IMAGES: Record<string, { sql: string; key: 'uuid' | 'code' }> = {
  area: { key: 'code', sql: `SELECT code, name, level, path FROM areas WHERE code = $1` },
  device: {
    key: 'code',
    sql: `SELECT d.code, d.name, a.code AS "areaCode", d.latitude, d.longitude, d.volume, d.state, d.decommissioned_at AS "decommissionedAt"
            FROM devices d JOIN areas a ON a.id = d.area_id WHERE d.code = $1`,
  },
  media: {
    key: 'uuid',
    sql: `SELECT m.id, m.kind, m.title, m.sha256, m.bytes, m.stream_url AS "streamUrl", a.code AS "areaCode"
            FROM media m LEFT JOIN areas a ON a.id = m.area_id WHERE m.id = $1::uuid`,
  },
  bulletin: {
    key: 'uuid',
    sql: `SELECT b.id, b.title, b.category, b.status, b.media_id AS "mediaId", b.notes, b.rejection_reason AS "rejectionReason", a.code AS "areaCode"
            FROM bulletins b LEFT JOIN areas a ON a.id = b.area_id WHERE b.id = $1::uuid`,
  },
  broadcast: {
    key: 'uuid',
    sql: `SELECT b.id, b.bulletin_id AS "bulletinId", b.priority, b.state, b.schedule_kind AS "scheduleKind", b.start_at AS "startAt", b.rrule,
                 b.target_area_codes AS "targetAreaCodes", b.target_device_codes AS "targetDeviceCodes", a.code AS "areaCode"
            FROM broadcasts b LEFT JOIN areas a ON a.id = b.area_id WHERE b.id = $1::uuid`,
  },
  user: {
    key: 'uuid',
    sql: `SELECT u.id, u.username, u.role, a.code AS "areaCode" FROM users u LEFT JOIN areas a ON a.id = u.area_id WHERE u.id = $1::uuid`,
  },
  alarm: {
    key: 'uuid',
    sql: `SELECT al.id, d.code AS "deviceCode", al.opened_at AS "openedAt", al.acknowledged_at AS "acknowledgedAt", al.acknowledged_by AS "acknowledgedBy",
                 al.note, al.cleared_at AS "clearedAt"
            FROM alarms al JOIN devices d ON d.id = al.device_id WHERE al.id = $1::uuid`,
  },
  'alarm-threshold': {
    key: 'code',
    sql: `SELECT a.code AS "areaCode", t.offline_after_s AS "offlineAfterS"
            FROM areas a LEFT JOIN alarm_thresholds t ON t.area_id = a.id WHERE a.code = $1`,
  },
  webhook: {
    key: 'uuid',
    sql: `SELECT w.id, w.url, w.events, w.enabled, a.code AS "areaCode" FROM webhooks w LEFT JOIN areas a ON a.id = w.area_id WHERE w.id = $1::uuid`,
  },
};

/** Whether `value` can be a key of the given kind (a malformed id is the handler's 400, not a query error). */
export function isKeyOf(kind: 'uuid' | 'code', value: string): boolean {
  return kind === 'uuid' ? isUuid(value) : value.length > 0 && value.length <= 64;
}
