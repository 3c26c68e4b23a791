// The operator's tokens live in sessionStorage: they die with the tab, and no other site's
// page can read them. Every API call carries the access token; the refresh token renews it
// shortly before it expires, and a 401 that a renewal cannot fix ends the session.
const STORAGE_KEY = 'loa.session';
/** Renew this long before the access token expires (or at 80 % of a shorter life). */
const RENEW_AHEAD_MS = 60_000;

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ? [].concat(body.message).join('; ') : `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

let session = readSession();
let renewTimer = null;
let renewing = null;
const endListeners = new Set();

function readSession() {
  try {
    return JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? 'null');
  } catch {
    return null;
  }
}

function save() {
  if (session) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
  else sessionStorage.removeItem(STORAGE_KEY);
}

export function currentUser() {
  return session?.user ?? null;
}

export function accessToken() {
  return session?.accessToken ?? null;
}

/** Called with a reason ('expired' or 'logout') when the session ends. */
export function onSessionEnd(listener) {
  endListeners.add(listener);
}

/** Resumes a session kept in this tab (a reload); false when there is none left. */
export async function resume() {
  if (!session) return false;
  if (session.expiresAt - Date.now() < RENEW_AHEAD_MS) return renew();
  scheduleRenewal();
  return true;
}

export async function login(username, password) {
  const res = await fetch('/api/v1/auth/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, body);
  await adopt(body);
}

async function adopt(tokens) {
  const user = tokens.user ?? session?.user ?? (await fetchMe(tokens.accessToken));
  session = {
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken ?? null,
    expiresAt: Date.now() + tokens.expiresIn * 1000,
    ttlMs: tokens.expiresIn * 1000,
    user,
  };
  save();
  scheduleRenewal();
}

async function fetchMe(token) {
  const res = await fetch('/api/v1/auth/me', { headers: { Accept: 'application/json', Authorization: `Bearer ${token}` } });
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, body);
  return body;
}

function scheduleRenewal() {
  clearTimeout(renewTimer);
  if (!session?.refreshToken) return;
  const ahead = Math.min(RENEW_AHEAD_MS, session.ttlMs * 0.2);
  renewTimer = setTimeout(renew, Math.max(1000, session.expiresAt - Date.now() - ahead));
}

/**
 * Trades the refresh token for new tokens. One renewal at a time: the refresh token is
 * rotated, and sending the old one twice would revoke the whole login.
 */
export function renew() {
  renewing ??= (async () => {
    try {
      if (!session?.refreshToken) return end('expired');
      const res = await fetch('/api/v1/auth/refresh', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ refreshToken: session.refreshToken }),
      });
      if (res.status === 401 || res.status === 400) return end('expired');
      if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => null));
      await adopt(await res.json());
      return true;
    } catch (err) {
      // A network blip: keep the session and try again soon; a 401 later ends it.
      console.warn('loa: token renewal failed, retrying', err);
      clearTimeout(renewTimer);
      renewTimer = setTimeout(renew, 15_000);
      return Boolean(session) && session.expiresAt > Date.now();
    } finally {
      renewing = null;
    }
  })();
  return renewing;
}

export async function logout() {
  const refreshToken = session?.refreshToken;
  const token = session?.accessToken;
  end('logout');
  if (!refreshToken) return;
  await fetch('/api/v1/auth/logout', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify({ refreshToken }),
  }).catch(() => undefined);
}

function end(reason) {
  clearTimeout(renewTimer);
  const had = session !== null;
  session = null;
  save();
  if (had) for (const listener of endListeners) listener(reason);
  return false;
}

/**
 * Calls the API with the operator's token. `json` is sent as JSON, `form` (FormData) as
 * multipart. A 401 is retried once after a renewal; a second one ends the session.
 */
export async function api(path, { method = 'GET', json, form, retried = false } = {}) {
  const headers = { Accept: 'application/json' };
  if (session) headers.Authorization = `Bearer ${session.accessToken}`;
  let body;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (form) {
    body = form;
  }
  const res = await fetch(path, { method, headers, body });
  if (res.status === 401 && session) {
    if (!retried && (await renew())) return api(path, { method, json, form, retried: true });
    end('expired');
  }
  if (res.status === 204) return null;
  const payload = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, payload);
  return payload;
}

/** Every item of a paged list route. */
export async function apiAll(path, pageSize = 500) {
  const items = [];
  const separator = path.includes('?') ? '&' : '?';
  for (let page = 1; ; page++) {
    const result = await api(`${path}${separator}page=${page}&pageSize=${pageSize}`);
    items.push(...result.items);
    if (items.length >= result.total || result.items.length === 0) return items;
  }
}
