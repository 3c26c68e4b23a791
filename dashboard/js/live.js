// The live event stream, read with fetch(): EventSource cannot send an Authorization
// header, and a token in the URL would end up in proxy logs. So this parses
// text/event-stream itself and resumes with Last-Event-ID after a break.
import { accessToken, renew } from './session.js';

const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;

/**
 * Streams GET /api/v1/events until `close()`. `onEvent(liveEvent)` gets each parsed event
 * ({id, type, at, areaPath, data}); `onStatus('connecting'|'live'|'lost')` the link state.
 */
export function connectLive({ onEvent, onStatus }) {
  const controller = new AbortController();
  let lastEventId = null;
  let retryMs = FIRST_RETRY_MS;

  async function run() {
    while (!controller.signal.aborted) {
      onStatus('connecting');
      try {
        const headers = { Accept: 'text/event-stream', Authorization: `Bearer ${accessToken()}` };
        if (lastEventId) headers['Last-Event-ID'] = lastEventId;
        const res = await fetch('/api/v1/events', { headers, cache: 'no-store', signal: controller.signal });
        if (res.status === 401) {
          if (!(await renew())) return;
          continue;
        }
        if (!res.ok || !res.body) throw new Error(`event stream: HTTP ${res.status}`);
        onStatus('live');
        retryMs = FIRST_RETRY_MS;
        await readEvents(res.body, (event) => {
          if (event.id) lastEventId = event.id;
          if (event.retry) retryMs = event.retry;
          if (!event.data) return;
          try {
            onEvent(JSON.parse(event.data));
          } catch (err) {
            console.warn('loa: bad live event', event, err);
          }
        });
      } catch (err) {
        if (controller.signal.aborted) return;
        console.warn('loa: event stream broke', err);
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
export async function readEvents(stream, dispatch) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let event = { data: [], type: '', id: null, retry: null };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
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
          dispatch({ type: event.type || 'message', data: event.data.join('\n'), id: event.id, retry: event.retry });
        }
        event = { data: [], type: '', id: null, retry: null };
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
      else if (field === 'retry' && /^\d+$/.test(content)) event.retry = Number(content);
    }
  }
}
