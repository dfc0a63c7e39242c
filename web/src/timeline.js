// The time slider: the city as it was at a date. Dated layers (works, participatory-budget
// projects, appeals) show only what had started by then — a filter expression on their
// catalog `temporal.start` property — coloured by their state at that date, not today's
// (`temporal.state`: a work done in 2024 was in progress in June 2023). The slider runs over
// the dated layers' own extent. A play button steps through the months.

import { getJSON } from './api.js';
import { formatDate } from './format.js';
import { t } from './i18n.js';

const DAY = 86400000;
// Until the layers' extents arrive (or when none has one): the last two years.
const TODAY = new Date().toISOString().slice(0, 10);
const DEFAULT_RANGE = [`${Number(TODAY.slice(0, 4)) - 2}${TODAY.slice(4)}`, TODAY];
const STEP_DAYS = 30;
const STEP_MS = 700;

const toDay = (iso) => Math.round(Date.parse(`${iso}T00:00:00Z`) / DAY);
const fromDay = (d) => new Date(d * DAY).toISOString().slice(0, 10);

/** The filter that keeps features started on or before `date` (undated ones stay). */
export function startedBy(property, date) {
  return ['any', ['!', ['has', property]], ['<=', ['to-string', ['get', property]], date]];
}

/**
 * The expression of a feature's state at `date` by its catalog `temporal` facts: a state in
 * `ended` (done, resolved) holds from the `end` date on; before it the feature was `during`.
 * Layers.Temporal.state_at says the same in Python.
 */
export function stateAt(temporal, date) {
  const { state, end, ended = [], during, stages = [] } = temporal;
  const now = ['get', state];
  if (stages.length) {
    // the latest stage reached by `date` (Temporal.state_at in Python says the same)
    const on = (prop) => ['slice', ['to-string', ['get', prop]], 0, 10];
    const reached = (prop) => ['all', ['has', prop], ['<=', on(prop), date]];
    const cases = ['case'];
    stages.forEach(([stage, prop], i) => {
      // a stage j beats stage i when reached later, or on the same day and later in the process
      const beats = stages
        .map(([, p], j) => [p, j])
        .filter(([, j]) => j !== i)
        .map(([p, j]) => ['all', reached(p), [j > i ? '>=' : '>', on(p), on(prop)]]);
      cases.push(['all', reached(prop), ['!', ['any', ...beats]]], stage);
    });
    cases.push(now);
    return cases;
  }
  const endedBy = end
    ? ['all', ['has', end], ['<=', ['slice', ['to-string', ['get', end]], 0, 10], date]]
    : false;
  return ['case', ['all', ['in', ['to-string', now], ['literal', ended]], ['!', endedBy]], during, now];
}

/** The state of one feature's properties at `date` (as `stateAt`), for the card. */
export function stateOf(temporal, props, date) {
  const now = props?.[temporal.state];
  if (temporal.stages?.length) {
    let reached = null;
    let best = '';
    for (const [stage, prop] of temporal.stages) {
      const when = props?.[prop] == null ? null : String(props[prop]).slice(0, 10);
      if (when && when >= best && when <= date) [reached, best] = [stage, when];
    }
    return reached ?? now;
  }
  if (!(temporal.ended ?? []).includes(now)) return now;
  const end = temporal.end ? props?.[temporal.end] : null;
  return end && String(end).slice(0, 10) <= date ? now : temporal.during;
}

/** `expr` with every ['get', property] replaced by `by`. */
function replaceGet(expr, property, by) {
  if (!Array.isArray(expr)) return expr;
  if (expr[0] === 'get' && expr[1] === property && expr.length === 2) return by;
  return expr.map((e) => replaceGet(e, property, by));
}

const mentions = (expr, property) => JSON.stringify(expr ?? null).includes(JSON.stringify(['get', property]));

export function applyDateFilter(app) {
  const { map, date } = app;
  app.basePaints ??= {};
  for (const entry of app.entries) {
    const temporal = entry.temporal;
    const start = temporal?.start;
    if (!start) continue;
    for (const id of entry.styleLayers) {
      const layer = map.getLayer(id);
      if (!layer) continue;
      // the style's own filter, and what a panel asked for (the budget panel: one cycle)
      const own = app.baseFilters[id];
      const asked = app.layerFilters?.[entry.id] ?? null;
      const base = own && asked ? ['all', own, asked] : (own ?? asked);
      let filter = base ?? null;
      if (date) filter = base ? ['all', base, startedBy(start, date)] : startedBy(start, date);
      map.setFilter(id, filter);
      if (!temporal.state) continue;
      if (!app.basePaints[id]) {
        const paint = map.getStyle().layers.find((l) => l.id === id)?.paint ?? {};
        app.basePaints[id] = Object.fromEntries(Object.entries(paint).filter(([, v]) => mentions(v, temporal.state)));
      }
      for (const [prop, value] of Object.entries(app.basePaints[id])) {
        map.setPaintProperty(id, prop, date ? replaceGet(value, temporal.state, stateAt(temporal, date)) : value);
      }
    }
  }
}

/** The first and last date of the dated layers' features (their collections' extents). */
async function temporalExtent(ids) {
  let lo = null;
  let hi = null;
  const answers = await Promise.allSettled(ids.map((id) => getJSON(`/collections/${id}`)));
  for (const a of answers) {
    const interval = a.status === 'fulfilled' ? a.value?.extent?.temporal?.interval?.[0] : null;
    if (!interval) continue;
    const [a0, a1] = [interval[0]?.slice(0, 10), interval[1]?.slice(0, 10)];
    if (a0 && (!lo || a0 < lo)) lo = a0;
    if (a1 && (!hi || a1 > hi)) hi = a1;
  }
  return lo && hi ? [lo, hi] : DEFAULT_RANGE;
}

export function setupTimeline(app) {
  const range = document.getElementById('time-range');
  const output = document.getElementById('time-output');
  const play = document.getElementById('time-play');
  const reset = document.getElementById('time-reset');
  let timer = 0;
  let [lo, hi] = DEFAULT_RANGE;

  function show() {
    const label = app.date ? formatDate(app.date) : t('time.all');
    output.textContent = label;
    range.setAttribute('aria-valuetext', label);
    // kept in the layout (not hidden), so the track keeps its length when a date is chosen
    reset.style.visibility = app.date ? 'visible' : 'hidden';
    reset.disabled = !app.date;
    play.setAttribute('aria-pressed', String(Boolean(timer)));
    play.setAttribute('aria-label', timer ? t('time.pause') : t('time.play'));
    play.classList.toggle('playing', Boolean(timer));
  }

  function configure() {
    range.min = '0';
    range.max = String(toDay(hi) - toDay(lo));
    range.value = String(app.date ? toDay(app.date) - toDay(lo) : Number(range.max));
    show();
  }

  function set(date) {
    app.setDate(date);
    range.value = String(date ? toDay(date) - toDay(lo) : Number(range.max));
    show();
  }

  function stop() {
    clearInterval(timer);
    timer = 0;
    show();
  }

  range.addEventListener('input', () => {
    const day = toDay(lo) + Number(range.value);
    set(Number(range.value) >= Number(range.max) ? null : fromDay(day));
  });
  reset.addEventListener('click', () => {
    stop();
    set(null);
  });
  play.addEventListener('click', () => {
    if (timer) return stop();
    if (!app.date) set(lo);
    timer = setInterval(() => {
      const next = toDay(app.date) + STEP_DAYS;
      if (next >= toDay(hi)) {
        set(null);
        stop();
      } else {
        set(fromDay(next));
      }
    }, STEP_MS);
    show();
  });

  configure();
  const dated = app.entries.filter((e) => e.temporal && e.summary).map((e) => e.id);
  temporalExtent(dated).then(([a, b]) => {
    [lo, hi] = [a, b];
    configure();
  });
  return { rerender: show, set, stop, bounds: () => [lo, hi] };
}
