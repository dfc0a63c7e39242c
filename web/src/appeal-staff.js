// Appeals analytics for staff (a planner or admin key), in the analysis panel: over a chosen
// period, counts per category and district, and per service the handling times (median, 90th
// percentile), the share past the deadline, residents' mean rating and the rating's score
// (GET /api/analysis/appeals); and the forecast of the next three months per district and
// category with its interval, naming the model the back-test chose and its error beside the
// seasonal-naive forecast's (GET /api/analysis/appeals/forecast). The hot spots are
// appeal-hotspots.js, on the same period. A resident's map has none of this: the sections
// hide themselves without a staff role, and the API refuses them (401/403) anyway.

import { getFile, getJSON } from './api.js';
import { loadServicesInto } from './appeal-services.js';
import { errorText, latestOnly, renderInto, statusLine } from './analysis-ui.js';
import { saveBlob } from './download.js';
import { formatMonth, formatNumber } from './format.js';
import { lang, t } from './i18n.js';
import { h } from './panel.js';

const DAY = 86400000;
const iso = (ms) => new Date(ms).toISOString().slice(0, 10);

export const isStaff = (app) => ['planner', 'admin'].includes(app.role);

/** The panel entry of a staff section whose selects offer the appeal services: hidden without
 * a staff role; mounting it keeps its element (`keep`), draws it and loads the services' list;
 * a sign-out (a role that is not staff) calls `forget`, so nothing of the staff's analysis stays
 * on the page. `parts` are the rest of the entry (id, addLayers …). */
export function servicesSection(ctx, { state, rerender, keep, forget, ...parts }) {
  return {
    state,
    hidden: () => !isStaff(ctx.app),
    mount(el) {
      keep(el);
      rerender();
      loadServicesInto(state, rerender);
    },
    rerender,
    roleChanged() {
      if (!isStaff(ctx.app)) forget();
    },
    ...parts,
  };
}

/** The period the staff sections share: the last 12 months up to today, until changed. */
export function createPeriod() {
  const today = Date.now();
  return { start: iso(today - 364 * DAY), end: iso(today) };
}

/** A row of buttons that download what a staff view shows as files, named by the server:
 * `files` are {kind, path, params} (params as the view asked them, plus the format). */
export function exportButtons(id, files, onError) {
  const save = async (f) => {
    try {
      const { blob, name } = await getFile(f.path, f.params, `${id}.${f.kind}`);
      saveBlob(blob, name);
    } catch (e) {
      onError(errorText(e));
    }
  };
  return h(
    'div',
    { class: 'inline wrap', id, role: 'group', 'aria-label': t('ap.export') },
    h('span', { class: 'hint', text: `${t('ap.export')}:` }),
    files.map((f) => h('button', { id: `${id}-${f.kind}`, type: 'button', class: 'btn btn-small', text: t(`ap.export.${f.kind}`), onclick: () => save(f) })),
  );
}

const pct = (v) => (v === null || v === undefined ? '—' : `${formatNumber(v * 100, 0)} %`);

function countTable(id, caption, head, rows, attr) {
  return h(
    'table',
    { class: 'figures', id },
    h('caption', { text: caption }),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: head }), h('th', { scope: 'col', text: t('ap.count') }))),
    h(
      'tbody',
      {},
      rows.map(([key, label, n]) =>
        h('tr', { [attr]: key, 'data-count': String(n) }, h('th', { scope: 'row', text: label }), h('td', { text: formatNumber(n, 0) })),
      ),
    ),
  );
}

function servicesTable(services) {
  const cols = ['count', 'median', 'p90', 'overdue', 'mean', 'score'];
  const head = { count: t('ap.count'), median: t('ap.median'), p90: t('ap.p90'), overdue: t('ap.overdue'), mean: t('ap.rating.mean'), score: t('ap.rating.score') };
  const rows = [...services].sort((a, b) => (a.rank ?? 1e9) - (b.rank ?? 1e9));
  return h(
    'div',
    { class: 'table-scroll' },
    h(
      'table',
      { class: 'figures', id: 'ap-services' },
      h('caption', { text: t('ap.byService') }),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: t('ap.rating.service') }), cols.map((c) => h('th', { scope: 'col', text: head[c] })))),
      h(
        'tbody',
        {},
        rows.map((s) =>
          h(
            'tr',
            { 'data-service': s.service, 'data-count': String(s.appeals), 'data-overdue': String(s.past_deadline_share ?? '') },
            h('th', { scope: 'row', text: s.rank ? `${s.rank}. ${s.title}` : s.title }),
            h('td', { text: formatNumber(s.appeals, 0) }),
            h('td', { text: formatNumber(s.median_days, 1) }),
            h('td', { text: formatNumber(s.p90_days, 1) }),
            h('td', { text: pct(s.past_deadline_share) }),
            h('td', { text: s.mean_rating === null ? '—' : `${formatNumber(s.mean_rating, 2)} ★` }),
            h('td', { text: formatNumber(s.score, 1) }),
          ),
        ),
      ),
    ),
  );
}

/** The summary section: a period, then counts and the services' table. */
export function createAppealStats(ctx, period) {
  const state = { data: null, dataLang: null, busy: false, error: null };
  let root = null;
  const requests = latestOnly(state, rerender);

  function run() {
    const params = { start: period.start, end: period.end, lang: lang() };
    return requests.run(
      () => getJSON('/api/analysis/appeals', params),
      (data) => Object.assign(state, { data, dataLang: lang(), params }),
    );
  }

  function results() {
    const d = state.data;
    if (!d) return null;
    const cats = Object.entries(d.by_category)
      .sort((a, b) => b[1] - a[1])
      .map(([code, n]) => [code, d.category_titles[code] ?? code, n]);
    const dists = Object.entries(d.by_district)
      .sort((a, b) => b[1] - a[1])
      .map(([name, n]) => [name, ctx.app.districtName(name), n]);
    return [
      h('p', { id: 'ap-total', 'data-count': String(d.appeals), text: t('ap.total', { n: formatNumber(d.appeals, 0) }) }),
      d.synthetic ? h('p', { class: 'hint', text: t('ap.synthetic') }) : null,
      countTable('ap-by-category', t('ap.byCategory'), t('ap.category'), cats, 'data-category'),
      countTable('ap-by-district', t('ap.byDistrict'), t('ap.district'), dists, 'data-district'),
      servicesTable(d.services),
      h('p', { class: 'hint', text: `${t('ap.rating.formula')}: ${t('ap.rating.formulaText', { min: d.min_ranked })}` }),
      exportButtons('ap-export', [{ kind: 'csv', path: '/api/analysis/appeals', params: { ...state.params, format: 'csv' } }], requests.fail),
    ];
  }

  function rerender() {
    if (!root) return;
    const date = (id, key) =>
      h('input', {
        id,
        type: 'date',
        value: period[key],
        onchange: (e) => {
          period[key] = e.target.value;
        },
      });
    renderInto(
      root,
      h('h3', { text: t('ap.period') }),
      h('div', { class: 'inline' }, h('label', { for: 'ap-start', text: t('ap.from') }), date('ap-start', 'start'), h('label', { for: 'ap-end', text: t('ap.to') }), date('ap-end', 'end')),
      h('button', { id: 'ap-run', type: 'button', class: 'btn btn-small', text: t('ap.show'), disabled: state.busy, onclick: run }),
      statusLine('ap-status', { busy: state.busy, error: state.error }),
      results(),
    );
  }

  return {
    id: 'appeal-stats',
    state,
    hidden: () => !isStaff(ctx.app),
    mount(el) {
      root = el;
      // names of categories and services come in the asked language: ask again after a change
      if (state.data && state.dataLang !== lang() && !state.busy) run();
      else rerender();
    },
    rerender,
    roleChanged() {
      if (!isStaff(ctx.app)) requests.forget();
    },
    addLayers() {},
  };
}

/** An SVG chart of the monthly history and the forecast with its interval band. */
export function forecastChart(history, forecast, { width = 320, height = 140, label = '' } = {}) {
  const NS = 'http://www.w3.org/2000/svg';
  const el = (name, attrs, parent) => {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    parent?.appendChild(node);
    return node;
  };
  const svg = el('svg', { viewBox: `0 0 ${width} ${height}`, width: '100%', class: 'chart', role: 'img', 'aria-label': label, id: 'ap-fc-chart' });
  const months = [...history.map((p) => p.month), ...forecast.map((p) => p.month)];
  if (!months.length) return svg;
  const ys = [...history.map((p) => p.appeals), ...forecast.flatMap((p) => [p.lower, p.upper])];
  // not from 0: a month's change is what staff read here, and it is small beside the total
  const y0 = Math.max(0, Math.floor(Math.min(...ys) * 0.9));
  const y1 = Math.max(...ys, y0 + 1);
  const pad = { left: 40, right: 8, top: 8, bottom: 20 };
  const sx = (i) => pad.left + (i / Math.max(months.length - 1, 1)) * (width - pad.left - pad.right);
  const sy = (y) => pad.top + (1 - (y - y0) / (y1 - y0)) * (height - pad.top - pad.bottom);
  const axis = el('g', { class: 'chart-axis', 'aria-hidden': 'true' }, svg);
  for (const y of [y0, y1]) {
    el('line', { x1: pad.left, x2: width - pad.right, y1: sy(y), y2: sy(y) }, axis);
    el('text', { x: pad.left - 4, y: sy(y) + 4, 'text-anchor': 'end' }, axis).textContent = formatNumber(y, 0);
  }
  for (const [i, anchor] of [
    [0, 'start'],
    [months.length - 1, 'end'],
  ]) {
    el('text', { x: sx(i), y: height - 4, 'text-anchor': anchor }, axis).textContent = formatMonth(months[i]);
  }
  const n = history.length;
  // the band runs from the last actual month, so it joins the history line
  const anchor = n ? [{ i: n - 1, lower: history[n - 1].appeals, upper: history[n - 1].appeals, mean: history[n - 1].appeals }] : [];
  const ahead = [...anchor, ...forecast.map((p, j) => ({ i: n + j, ...p }))];
  const band = [...ahead.map((p) => `${sx(p.i).toFixed(1)},${sy(p.upper).toFixed(1)}`), ...[...ahead].reverse().map((p) => `${sx(p.i).toFixed(1)},${sy(p.lower).toFixed(1)}`)];
  el('polygon', { points: band.join(' '), class: 'ap-fc-band' }, svg);
  const line = (pts, cls) => el('path', { d: pts.map(([x, y], k) => `${k ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(''), class: cls }, svg);
  line(history.map((p, i) => [i, p.appeals]), 'chart-line chart-main');
  line(ahead.map((p) => [p.i, p.mean]), 'chart-line ap-fc-line');
  return svg;
}

/** The forecast section: a district and a category, then the chart, the model and its error. */
export function createAppealForecast(ctx) {
  const state = { district: '', category: '', data: null, busy: false, error: null, services: [] };
  let root = null;
  const requests = latestOnly(state, rerender);

  function run() {
    const params = { district: state.district, category: state.category };
    return requests.run(
      () => getJSON('/api/analysis/appeals/forecast', params),
      (data) => Object.assign(state, { data, params }),
    );
  }

  function result() {
    const d = state.data;
    if (!d) return null;
    const scores = d.backtest.scores;
    const naive = scores['seasonal naive'] ?? {};
    const level = Math.round(d.level * 100);
    const history = d.history.slice(-24);
    return [
      h('p', { id: 'ap-fc-model', 'data-model': d.model, text: t('ap.fc.model', { model: d.model, months: d.backtest.holdout_months }) }),
      h('p', {
        id: 'ap-fc-error',
        'data-mase': String(d.backtest.mase),
        text: t('ap.fc.error', { mase: formatNumber(d.backtest.mase, 2), mae: formatNumber(scores[d.model]?.mae, 1), naive: formatNumber(naive.mase, 2), naiveMae: formatNumber(naive.mae, 1) }),
      }),
      forecastChart(history, d.forecast, { label: t('ap.fc.chart') }),
      h(
        'ul',
        { class: 'legend ap-fc-legend' },
        h('li', {}, h('span', { class: 'swatch swatch-line ap-fc-swatch-history' }), t('ap.fc.history')),
        h('li', {}, h('span', { class: 'swatch swatch-line ap-fc-swatch-mean' }), t('ap.fc.mean')),
        h('li', {}, h('span', { class: 'swatch ap-fc-swatch-band' }), t('ap.fc.interval', { level })),
      ),
      h(
        'table',
        { class: 'figures', id: 'ap-fc-table' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: t('ap.fc.month') }), h('th', { scope: 'col', text: t('ap.fc.mean') }), h('th', { scope: 'col', text: t('ap.fc.interval', { level }) }))),
        h(
          'tbody',
          {},
          d.forecast.map((p) =>
            h(
              'tr',
              { 'data-month': p.month, 'data-mean': String(p.mean) },
              h('th', { scope: 'row', text: formatMonth(p.month) }),
              h('td', { text: formatNumber(p.mean, 0) }),
              h('td', { text: `${formatNumber(p.lower, 0)}–${formatNumber(p.upper, 0)}` }),
            ),
          ),
        ),
      ),
      d.synthetic_share ? h('p', { class: 'hint', text: t('ap.synthetic') }) : null,
      exportButtons('ap-fc-export', [{ kind: 'csv', path: '/api/analysis/appeals/forecast', params: { ...state.params, format: 'csv' } }], requests.fail),
    ];
  }

  function rerender() {
    if (!root) return;
    const districts = ctx.app.overview?.districts || [];
    renderInto(
      root,
      h('h3', { text: t('ap.fc.title') }),
      h('label', { for: 'ap-fc-district', text: t('ap.district') }),
      h(
        'select',
        { id: 'ap-fc-district', onchange: (e) => (state.district = e.target.value) },
        h('option', { value: '', text: t('ap.all') }),
        districts.map((d) => h('option', { value: d.name, text: ctx.app.districtName(d.name), selected: d.name === state.district })),
      ),
      h('label', { for: 'ap-fc-category', text: t('ap.category') }),
      h(
        'select',
        { id: 'ap-fc-category', onchange: (e) => (state.category = e.target.value) },
        h('option', { value: '', text: t('ap.all') }),
        state.services.map((s) => h('option', { value: s.service_code, text: s.service_name, selected: s.service_code === state.category })),
      ),
      h('button', { id: 'ap-fc-run', type: 'button', class: 'btn btn-small', text: t('ap.fc.run'), disabled: state.busy, onclick: run }),
      statusLine('ap-fc-status', { busy: state.busy ? t('ap.fc.busy') : false, error: state.error }),
      result(),
    );
  }

  return servicesSection(ctx, {
    id: 'appeal-forecast',
    state,
    rerender,
    keep: (el) => (root = el),
    forget: () => requests.forget(),
    addLayers() {},
  });
}
