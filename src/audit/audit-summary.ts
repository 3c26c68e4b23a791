/**
 * Bounded, redacted copies of request and response bodies for the audit log. An entry must
 * say what changed without ever holding a credential, and without one careless response
 * (a 500-item list, a long CSV) swelling the table.
 */

/** Keys whose values are credentials, at any depth. */
const SECRET_KEY = /pass|secret|token|hash|authorization|cookie/i;
const MAX_DEPTH = 4;
const MAX_ITEMS = 20;
const MAX_STRING = 200;
const MAX_KEYS = 40;
/** Bytes of JSON an entry's summary may take; beyond it only the top-level keys are kept. */
const MAX_JSON = 8 * 1024;

export const REDACTED = '[redacted]';

export function summarise(value: unknown): unknown {
  if (value === undefined) return null;
  const copy = bounded(value, 0);
  if (JSON.stringify(copy).length <= MAX_JSON) return copy;
  return isPlainObject(copy) ? { truncated: true, keys: Object.keys(copy) } : { truncated: true };
}

function bounded(value: unknown, depth: number): unknown {
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    // Redacted before it is cut, so a cut cannot leave half a credential unrecognised.
    const text = redactValue(value);
    return text.length > MAX_STRING ? `${text.slice(0, MAX_STRING)}…` : text;
  }
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'bigint') return value.toString();
  if (depth >= MAX_DEPTH) return Array.isArray(value) ? `[${value.length} items]` : '{…}';
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_ITEMS).map((v) => bounded(v, depth + 1));
    return value.length > MAX_ITEMS ? [...items, `… ${value.length - MAX_ITEMS} more`] : items;
  }
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value).slice(0, MAX_KEYS)) {
      out[key] = SECRET_KEY.test(key) ? REDACTED : bounded(v, depth + 1);
    }
    return out;
  }
  // Streams, buffers and other objects a handler may answer with say nothing useful here.
  return `[${(value as object).constructor?.name ?? typeof value}]`;
}

/**
 * Credentials that hide in values under innocent keys: the password of a URL
 * (`https://user:pw@host`, a webhook or stream address), a bearer token, a JWT.
 */
function redactValue(value: string): string {
  return value
    .replace(/(\/\/[^/:@\s]*):[^/@\s]*@/g, `$1:${REDACTED}@`)
    .replace(/\bBearer [\w.~+/=-]{8,}/g, `Bearer ${REDACTED}`)
    .replace(/\beyJ[\w-]+\.[\w-]+\.[\w-]*/g, REDACTED);
}

/** A JSON-like record: plain objects and DTO instances, not buffers, streams or collections. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  if (Buffer.isBuffer(value) || value instanceof Map || value instanceof Set) return false;
  return typeof (value as { pipe?: unknown }).pipe !== 'function';
}
