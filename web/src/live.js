// One live stream per open map: a single EventSource on /api/events shared by every panel
// (participation, appeals, city events, budget), instead of one connection each. A browser
// allows only six HTTP/1.1 connections per host, and each open stream holds one for good, so
// three streams left three for tiles and API calls; the server too holds one subscription per
// stream. Panels register the events they want (`onLive(name, fn)`); main.js calls
// `startLive()` once every panel is set up, and the stream opens asking for the union of their
// topics (a topic selects its children: `participation` brings `participation.rating`); it
// reopens only if a panel adds a new topic later.
// `reset` (the server no longer holds what a reconnecting map missed) goes to every panel
// that registered for it.

const handlers = new Map(); // event name -> Set of functions
const topics = new Set();
let source = null;
let opened = ''; // the topics the open stream asked for
let started = false;

/** Call fn(data, event) for every live event named `name` ('events', 'participation.rating',
 * 'appeals', 'reset' …); `data` is what the domain published (the frame's `data`). */
export function onLive(name, fn) {
  if (!handlers.has(name)) handlers.set(name, new Set());
  handlers.get(name).add(fn);
  if (name !== 'reset') topics.add(name.split('.')[0]);
  if (started) open();
  return () => handlers.get(name)?.delete(fn);
}

function dispatch(e) {
  let data = {};
  try {
    data = e.data ? JSON.parse(e.data).data || {} : {};
  } catch {
    return;
  }
  for (const fn of handlers.get(e.type) || []) {
    try {
      fn(data, e);
    } catch (err) {
      console.warn('live handler failed', err);
    }
  }
}

/** Open the stream (main.js, once the panels have registered). */
export function startLive() {
  started = true;
  open();
}

function open() {
  if (typeof EventSource === 'undefined') return;
  const wanted = [...topics].sort().join(',');
  if (source && wanted === opened) {
    for (const name of handlers.keys()) source.addEventListener(name, dispatch);
    return;
  }
  source?.close();
  opened = wanted;
  source = new EventSource(`/api/events?topic=${encodeURIComponent(wanted)}`);
  // addEventListener ignores a listener added twice, so a name is dispatched once
  for (const name of handlers.keys()) source.addEventListener(name, dispatch);
}

/** The shared EventSource (tests read its URL and state); null before it opens. */
export function liveSource() {
  return source;
}
