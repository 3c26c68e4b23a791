import { AlarmsView } from './alarms.js';
import { suggestAreas } from './areas.js';
import { BroadcastsView } from './broadcasts.js';
import { BulletinsView } from './bulletins.js';
import { byId } from './dom.js';
import { EmergencyView } from './emergency.js';
import { FleetView } from './fleet.js';
import { roleName } from './format.js';
import { onLangChange, setLang, t, translatePage } from './i18n.js';
import { connectLive } from './live.js';
import { ApiError, currentUser, login, logout, onSessionEnd, resume } from './session.js';

/** role → permission table, served by Loa from src/auth/permissions.ts. */
let permissions = {};
let live = null;

const can = (permission) => (permissions[permission] ?? []).includes(currentUser()?.role);

const fleet = new FleetView();
const broadcasts = new BroadcastsView();
const alarms = new AlarmsView({ can, placeOf: (code) => fleet.placeOf(code) });
const emergency = new EmergencyView({ onSent: () => Promise.all([broadcasts.load(), bulletins.load()]) });
const bulletins = new BulletinsView({
  can,
  onScheduled: () => broadcasts.load(),
  onChange: (items) => emergency.setBulletins(items),
});

translatePage();
for (const button of document.querySelectorAll('button[data-lang]')) button.addEventListener('click', () => setLang(button.dataset.lang));
onLangChange(() => {
  renderHeader();
  if (!currentUser()) return;
  fleet.render();
  broadcasts.render();
  bulletins.render();
  emergency.setBulletins(bulletins.items);
  alarms.render();
});
suggestAreas([byId('schedule-area'), byId('emergency-area')]);
byId('login-form').addEventListener('submit', onLogin);
byId('logout').addEventListener('click', () => logout());
onSessionEnd((reason) => showLogin(reason === 'expired' ? t('sessionExpired') : ''));

start();

async function start() {
  try {
    permissions = await (await fetch('/dashboard/permissions.json')).json();
    if (await resume()) return showApp();
  } catch (err) {
    console.warn('loa: could not resume the session', err);
  }
  // Keeps the message of a session that could not be renewed, if that is why we are here.
  showLogin();
}

async function onLogin(event) {
  event.preventDefault();
  const error = byId('login-error');
  const username = byId('login-username').value.trim();
  const password = byId('login-password').value;
  if (!username || !password) {
    error.textContent = t('loginMissing');
    return;
  }
  const submit = event.currentTarget.querySelector('button[type=submit]');
  submit.disabled = true;
  error.textContent = '';
  try {
    await login(username, password);
    byId('login-password').value = '';
    await showApp();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) error.textContent = t('loginInvalid');
    else if (err instanceof ApiError && err.status === 429) error.textContent = t('loginThrottled', { s: err.body?.retryAfterS ?? 60 });
    else error.textContent = err instanceof ApiError ? t('errorPrefix', { message: err.message }) : t('networkError');
  } finally {
    submit.disabled = false;
  }
}

function showLogin(message) {
  live?.close();
  live = null;
  byId('app-view').hidden = true;
  byId('login-view').hidden = false;
  if (message !== undefined) byId('login-error').textContent = message;
  renderHeader();
  byId('login-username').focus();
}

async function showApp() {
  byId('login-view').hidden = true;
  byId('app-view').hidden = false;
  renderHeader();
  for (const el of document.querySelectorAll('[data-requires]')) el.hidden = !can(el.dataset.requires);
  // Listen first, load second: events that arrive during the load are queued, not lost.
  live = connectLive({ onEvent, onStatus: renderLiveStatus });
  await loadAll();
}

async function loadAll() {
  const loads = [fleet.load(currentUser()), broadcasts.load(), bulletins.load(), alarms.load()];
  const failed = (await Promise.allSettled(loads)).filter((r) => r.status === 'rejected');
  for (const { reason } of failed) console.warn('loa: loading failed', reason);
  // Alarm rows name the speaker's area once the fleet is known.
  alarms.render();
}

function onEvent(event) {
  // Events were lost (the break outlasted what Loa keeps): what is on screen may be stale.
  if (event.type === 'reset') loadAll();
  else if (event.type === 'device.state') fleet.applyState(event.data);
  else if (event.type === 'delivery.progress') broadcasts.onProgress(event.data);
  else if (event.type.startsWith('alarm.')) alarms.onEvent(event.type, event.data);
}

function renderHeader() {
  const user = currentUser();
  byId('who').hidden = !user;
  byId('logout').hidden = !user;
  byId('live-status').hidden = !user;
  if (!user) return;
  byId('who-name').textContent = user.username;
  byId('who-role').textContent = roleName(user.role);
  byId('who-area').textContent = user.areaCode ? `${user.areaName ?? ''} (${user.areaCode})` : t('wholeCountry');
}

let liveState = 'connecting';
function renderLiveStatus(state = liveState) {
  liveState = state;
  const el = byId('live-status');
  el.dataset.state = state;
  el.textContent = t({ live: 'liveOn', connecting: 'liveConnecting', lost: 'liveLost' }[state]);
}
onLangChange(() => renderLiveStatus());
