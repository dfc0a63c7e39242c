// The district dashboard (indicators with their history against the city average and the
// other districts, from /api/districts/{name}) and the district choropleth.

import { cityAirBlock } from './air-history.js';
import { getJSON } from './api.js';
import { lineChart } from './chart.js';
import { districtAnalyses } from './district-analyses.js';
import { formatNumber, withUnit } from './format.js';
import { lang, t, title as tr } from './i18n.js';
import { h } from './panel.js';
import { noDataText, provenanceDetails, provenanceShort } from './provenance.js';
import { seismicBlock } from './seismic-view.js';

// A sequential, colour-blind-safe ramp (light = less, dark = more).
export const RAMP = ['#f1eef6', '#bdc9e1', '#74a9cf', '#2b8cbe', '#045a8d'];

function mix(a, b, f) {
  const pa = a.match(/\w\w/g).map((x) => parseInt(x, 16));
  const pb = b.match(/\w\w/g).map((x) => parseInt(x, 16));
  return `#${pa.map((v, i) => Math.round(v + (pb[i] - v) * f).toString(16).padStart(2, '0')).join('')}`;
}

export function rampColour(f) {
  const x = Math.min(Math.max(f, 0), 1) * (RAMP.length - 1);
  const i = Math.min(Math.floor(x), RAMP.length - 2);
  return mix(RAMP[i], RAMP[i + 1], x - i);
}

/** The year the choropleth shows: the slider's year within the indicators' years. */
export function indicatorYear(app) {
  const years = app.overview?.years || [];
  if (!years.length) return null;
  const wanted = app.date ? Number(app.date.slice(0, 4)) : years[years.length - 1];
  return Math.min(Math.max(wanted, years[0]), years[years.length - 1]);
}

/** Colour the districts by the chosen indicator (for the slider's year). */
export function applyChoropleth(app) {
  const { map, overview } = app;
  const legendRoot = document.getElementById('choropleth-legend');
  if (!overview || !map.getLayer('twin-choropleth')) return;
  const year = String(indicatorYear(app));
  const ind = overview.indicators.find((i) => i.name === app.indicator) || overview.indicators[0];
  const values = overview.districts
    .map((d) => [d.name, overview.values[d.name]?.[year]?.[ind.name]])
    .filter(([, v]) => v !== null && v !== undefined);
  const nums = values.map(([, v]) => v);
  const [lo, hi] = [Math.min(...nums), Math.max(...nums)];
  const match = ['match', ['get', 'name']];
  for (const [name, v] of values) match.push(name, rampColour(hi > lo ? (v - lo) / (hi - lo) : 0.5));
  match.push('#d9d9d9');
  map.setPaintProperty('twin-choropleth', 'fill-color', values.length ? match : '#d9d9d9');
  if (legendRoot) {
    const fmt = (v) => withUnit(formatNumber(v), ind.unit);
    const demo = ind.generated_years?.includes(Number(year));
    const parts = [
      h('p', { class: 'hint', text: `${tr(ind.title)} · ${t('choropleth.year', { year })}` }),
      demo ? h('p', { class: 'badge badge-demo', 'data-demo': 'choropleth', text: t('demo.badge') }) : null,
      h('div', { class: 'ramp', style: `background:linear-gradient(90deg,${RAMP.join(',')})`, 'aria-hidden': 'true' }),
      h('div', { class: 'ramp-labels' }, h('span', { text: fmt(lo) }), h('span', { text: fmt(hi) })),
    ];
    legendRoot.replaceChildren(...parts.filter(Boolean));
  }
}

/** Years as short runs: [2019, 2020, 2021, 2023] -> "2019–2021, 2023". */
export function yearRuns(years) {
  const runs = [];
  for (const y of [...years].sort((a, b) => a - b)) {
    const last = runs[runs.length - 1];
    if (last && y === last[1] + 1) last[1] = y;
    else runs.push([y, y]);
  }
  return runs.map(([a, b]) => (a === b ? String(a) : `${a}–${b}`)).join(', ');
}

/** The demo-data note of an indicator: which years are generated, and what the latest year's
 * value is computed from when that is generated; null when every value is real. */
function demoNote(ind) {
  const years = ind.history.filter((p) => p.generated).map((p) => p.year);
  if (!years.length) return null;
  const parts = [t('dash.demo.years', { years: yearRuns(years) })];
  if (ind.latest.generated && ind.generated_from?.length) {
    const layers = ind.generated_from.map((g) => tr(g.title)).join(', ');
    parts.push(t('dash.demo.from', { year: ind.latest.year, layers }));
  }
  return h('p', { class: 'hint indicator-demo', 'data-years': years.join(','), text: parts.join('. ') });
}

/** Where an indicator's figure comes from and how old and complete that is, beside the figure:
 * "OSM 2012, очень неполные"; a zero counted from a sparse or incomplete source reads
 * "нет данных — OSM 2012, …" (Alatau's 0 m² of green space is a gap of the 2012 map, not a
 * fact). The facts are declared in layers/provenance.py and come with /api/districts. */
export function sourceLine(ind) {
  const sources = ind.sources ?? [];
  if (!sources.length) return null;
  const l = lang();
  const shorts = [...new Set(sources.map((s) => provenanceShort(s.provenance, l)))];
  const gappy = sources.some((s) => ['sparse', 'incomplete'].includes(s.provenance?.completeness));
  const v = ind.latest?.value;
  const nodata = gappy && (v === 0 || v === null || v === undefined);
  const text = shorts.join('; ');
  return h('p', {
    class: `indicator-source${nodata ? ' indicator-nodata' : ''}`,
    'data-completeness': sources.map((s) => s.provenance?.completeness ?? 'none').join(' '),
    'data-nodata': String(nodata),
    title: sources.map((s) => provenanceDetails(s.provenance, l)).join('\n'),
    text: nodata ? `${noDataText(l)} — ${text}` : text,
  });
}

let current = null; // {name, data}
let returnFocus = null;

function indicatorBlock(app, data, ind) {
  const districtLabel = app.districtName(data.district);
  const fmt = (v) => formatNumber(v);
  const hist = ind.history.map((p) => ({ x: p.year, y: p.value }));
  const series = [
    ...Object.entries(ind.others).map(([name, pts]) => ({
      kind: 'other',
      name: app.districtName(name),
      points: pts.map((p) => ({ x: p.year, y: p.value })),
    })),
    { kind: 'average', name: t('dash.avg'), points: ind.city_average.map((p) => ({ x: p.year, y: p.value })) },
    { kind: 'main', name: districtLabel, points: hist },
  ];
  const first = hist[0];
  const last = hist[hist.length - 1];
  const label = t('dash.chart', {
    title: tr(ind.title),
    district: districtLabel,
    first: first?.x,
    last: last?.x,
    from: withUnit(fmt(first?.y), ind.unit),
    to: withUnit(fmt(last?.y), ind.unit),
    avg: withUnit(fmt(ind.latest.city_average), ind.unit),
  });
  const pressed = app.indicator === ind.name && app.isOn('district_indicators');
  return h(
    'li',
    { class: 'indicator', 'data-indicator': ind.name },
    h('h3', { text: tr(ind.title) }),
    h(
      'p',
      { class: 'indicator-figures' },
      h('strong', { class: 'indicator-value', 'data-value': String(ind.latest.value), text: withUnit(fmt(ind.latest.value), ind.unit) }),
      h('span', {
        class: 'indicator-avg',
        'data-value': String(ind.latest.city_average),
        text: `${t('dash.avg')}: ${withUnit(fmt(ind.latest.city_average), ind.unit)}`,
      }),
      ind.latest.rank ? h('span', { class: 'indicator-rank', text: t('dash.rank', { rank: ind.latest.rank, of: ind.latest.of }) }) : null,
      ind.latest.generated ? h('span', { class: 'badge badge-demo', 'data-demo': 'latest', text: t('demo.badge') }) : null,
    ),
    sourceLine(ind),
    lineChart(series, { label, format: (v) => formatNumber(v) }),
    demoNote(ind),
    h('button', {
      type: 'button',
      class: 'btn btn-small',
      'aria-pressed': String(pressed),
      text: t('dash.colour'),
      onclick: () => app.setIndicator(ind.name, { show: true }),
    }),
  );
}

function render(app) {
  const root = document.getElementById('dashboard');
  if (!current) {
    root.hidden = true;
    root.replaceChildren();
    return;
  }
  const { data } = current;
  const body = data
    ? [
        h('p', { class: 'hint', text: t('dash.year', { year: data.year }) }),
        h(
          'p',
          { class: 'chart-key', 'aria-hidden': 'true' },
          h('span', { class: 'key key-main', text: app.districtName(data.district) }),
          h('span', { class: 'key key-average', text: t('dash.avg') }),
          h('span', { class: 'key key-other', text: t('dash.others') }),
        ),
        h('ul', { class: 'indicators' }, data.indicators.map((ind) => indicatorBlock(app, data, ind))),
        h('p', { class: 'hint', text: t('dash.note') }),
        cityAirBlock(() => rerenderDashboard(app)),
        districtAnalyses(app, data.district, () => rerenderDashboard(app)),
        seismicBlock(app, data.district, () => rerenderDashboard(app)),
      ]
    : [h('p', { class: 'hint', text: current.error ? t('error.load') : t('loading') })];
  const focused = root.contains(document.activeElement) ? document.activeElement.id : null;
  root.replaceChildren(
    h(
      'div',
      { class: 'sheet-head' },
      h('div', {}, h('p', { class: 'eyebrow', text: t('dash.title') }), h('h2', { id: 'dash-title', tabindex: '-1', text: app.districtName(current.name) })),
      h('button', { type: 'button', class: 'btn btn-icon btn-close', 'aria-label': t('close'), text: '×', onclick: () => app.closeDashboard() }),
    ),
    h('div', { class: 'sheet-body' }, body),
  );
  root.dataset.district = current.name;
  root.hidden = false;
  if (focused) document.getElementById(focused)?.focus();
}

export async function openDashboard(app, name, { focus = true } = {}) {
  if (!returnFocus && focus) returnFocus = document.activeElement;
  current = { name, data: null };
  const mine = current;
  render(app);
  if (focus) document.getElementById('dash-title')?.focus();
  try {
    mine.data = await getJSON(`/api/districts/${encodeURIComponent(name)}`);
    mine.name = mine.data.district;
  } catch {
    mine.error = true;
  }
  if (current === mine) render(app);
  if (current === mine && !mine.error) outline(app, mine);
}

/** Outline the chosen district on the map (the selection layer draws its boundary). */
async function outline(app, mine) {
  const cql = encodeURIComponent(`name = '${mine.name.replace(/'/g, "''")}'`);
  try {
    const fc = await getJSON(`/collections/districts/items?limit=1&filter-lang=cql2-text&filter=${cql}`);
    if (current === mine) app.select(fc.features[0]?.geometry ?? null);
  } catch {
    /* the dashboard stands without its outline */
  }
}

export function closeDashboard(app, { keepFocus = false } = {}) {
  if (!current) return false;
  current = null;
  app.select(null);
  render(app);
  if (!keepFocus) {
    const target = returnFocus && document.contains(returnFocus) ? returnFocus : app.map.getCanvas();
    target.focus();
  }
  returnFocus = null;
  return true;
}

export function rerenderDashboard(app) {
  if (current) render(app);
}

export function dashboardDistrict() {
  return current?.name ?? null;
}
