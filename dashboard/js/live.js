// The live event stream, read with fetch(): EventSource cannot send an Authorization
// header, and a token in the URL would end up in proxy logs. So this parses
// text/event-stream itself and resumes with Last-Event-ID after a break.
import { accessToken, renew } from './session.js';

const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;
/** A stream that ended after this long ended normally, not in a failure loop. */
const QUIET_RECONNECT_AFTER_MS = 10_000;
/** Four keep-alives at Loa's default EVENTS_KEEPALIVE_S (15 s). */
const SILENCE_LIMIT_MS = 60_000;

/**
 * Streams GET /api/v1/events until `close()`. `onEvent(liveEvent)` gets each parsed event
 * ({id, type, at, areaPath, data}), including `reset` when events were lost and the page
 * must reload; `onStatus('connecting'|'live'|'lost')` the link state.
 */
export function connectLive({ onEvent, onStatus }) {
  const controller = new AbortController();
  let lastEventId = null;
  /** The server may set the first retry delay with a `retry:` field. */
  let firstRetryMs = FIRST_RETRY_MS;
  let retryMs = firstRetryMs;

  async function run() {
    let quiet = false;
    while (!controller.signal.aborted) {
      if (!quiet) onStatus('connecting');
      quiet = false;
      // A link that dies without a FIN (a NAT forgetting us) never errors: Loa sends a
      // comment every EVENTS_KEEPALIVE_S, so a long silence means the stream is gone.
      const attempt = new AbortController();
      const stop = () => attempt.abort();
      controller.signal.addEventListener('abort', stop, { once: true });
      let watchdog = null;
      const heard = () => {
        clearTimeout(watchdog);
        watchdog = setTimeout(stop, SILENCE_LIMIT_MS);
      };
      try {
        heard();
        const headers = { Accept: 'text/event-stream', Authorization: `Bearer ${accessToken()}` };
        if (lastEventId) headers['Last-Event-ID'] = lastEventId;
        const res = await fetch('/api/v1/events', { headers, cache: 'no-store', signal: attempt.signal });
        if (res.status === 401) {
          if (!(await renew())) return;
          continue;
        }
        if (res.status === 400 && lastEventId) {
          // An id the server cannot read: start afresh, as after a reset.
          lastEventId = null;
          onEvent({ type: 'reset', data: {} });
          continue;
        }
        if (!res.ok || !res.body) throw new Error(`event stream: HTTP ${res.status}`);
        onStatus('live');
        retryMs = firstRetryMs;
        const openedAt = Date.now();
        await readEvents(res.body, {
          onChunk: heard,
          onRetry: (ms) => (firstRetryMs = retryMs = ms),
          onEvent: (event) => {
            if (event.id) lastEventId = event.id;
            if (!event.data) return;
            try {
              onEvent(JSON.parse(event.data));
            } catch (err) {
              console.warn('loa: bad live event', event, err);
            }
          },
        });
        // Loa ends a stream when the token it was opened with expires; the page renewed its
        // token a minute earlier, so it simply opens the next one.
        if (Date.now() - openedAt > QUIET_RECONNECT_AFTER_MS) {
          quiet = true;
          continue;
        }
      } catch (err) {
        if (controller.signal.aborted) return;
        console.warn('loa: event stream broke', err);
      } finally {
        clearTimeout(watchdog);
        controller.signal.removeEventListener('abort', stop);
      }
      if (controller.signal.aborted) return;
      onStatus('lost');
      // Jitter, so a room of dashboards does not reconnect in lockstep after a restart.
      await sleep(retryMs * (0.75 + Math.random() / 2), controller.signal);
      retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
    }
  }

  run();
  return { close: () => controller.abort() };
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

/**
 * The text/event-stream format (HTML standard, "server-sent events"): lines end in CRLF,
 * LF or CR; a blank line dispatches; `:` starts a comment; `data` lines are joined by LF.
 */
export async function readEvents(stream, { onEvent, onRetry, onChunk }) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let event = { data: [], type: '', id: null };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    onChunk();
    buffer += value;
    for (;;) {
      const end = buffer.search(/[\r\n]/);
      if (end === -1) break;
      // A CR at the end of the chunk may be the first half of a CRLF.
      if (buffer[end] === '\r' && end === buffer.length - 1) break;
      const line = buffer.slice(0, end);
      buffer = buffer.slice(buffer[end] === '\r' && buffer[end + 1] === '\n' ? end + 2 : end + 1);
      if (line === '') {
        if (event.data.length || event.id !== null) {
          onEvent({ type: event.type || 'message', data: event.data.join('\n'), id: event.id });
        }
        event = { data: [], type: '', id: null };
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let content = colon === -1 ? '' : line.slice(colon + 1);
      if (content.startsWith(' ')) content = content.slice(1);
      if (field === 'data') event.data.push(content);
      else if (field === 'event') event.type = content;
      else if (field === 'id' && !content.includes('\0')) event.id = content;
      else if (field === 'retry' && /^\d+$/.test(content)) onRetry(Number(content));
    }
  }
}
