// The time slider: the city as it was at a date. Dated layers (works, participatory-budget
// projects, appeals) show only what had started by then — a filter expression on their
// catalog `temporal.start` property. A play button steps through the months.

import { getJSON } from './api.js';
import { formatDate } from './format.js';
import { t } from './i18n.js';

const DAY = 86400000;
const DEFAULT_RANGE = ['2019-01-01', '2026-12-31'];
const STEP_DAYS = 30;
const STEP_MS = 700;

const toDay = (iso) => Math.round(Date.parse(`${iso}T00:00:00Z`) / DAY);
const fromDay = (d) => new Date(d * DAY).toISOString().slice(0, 10);

/** The filter that keeps features started on or before `date` (undated ones stay). */
export function startedBy(property, date) {
  return ['any', ['!', ['has', property]], ['<=', ['to-string', ['get', property]], date]];
}

export function applyDateFilter(app) {
  const { map, date } = app;
  for (const entry of app.entries) {
    const start = entry.temporal?.start;
    if (!start) continue;
    for (const id of entry.styleLayers) {
      if (!map.getLayer(id)) continue;
      const base = app.baseFilters[id];
      let filter = base ?? null;
      if (date) filter = base ? ['all', base, startedBy(start, date)] : startedBy(start, date);
      map.setFilter(id, filter);
    }
  }
}

async function temporalExtent(ids) {
  let [lo, hi] = DEFAULT_RANGE;
  const answers = await Promise.allSettled(ids.map((id) => getJSON(`/collections/${id}`)));
  for (const a of answers) {
    const interval = a.status === 'fulfilled' ? a.value?.extent?.temporal?.interval?.[0] : null;
    if (!interval) continue;
    if (interval[0] && interval[0].slice(0, 10) < lo) lo = interval[0].slice(0, 10);
    if (interval[1] && interval[1].slice(0, 10) > hi) hi = interval[1].slice(0, 10);
  }
  return [lo, hi];
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
    reset.hidden = !app.date;
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
