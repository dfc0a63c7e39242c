// The analyses' figures in the district dashboard: residents within 10 and 15 minutes' walk of
// each kind of facility, the 15-minute-city score and the step-free clinic share
// (GET /api/analysis/access), and, on request, the public camera coverage percentages
// (GET /api/analysis/coverage/districts: the city's first run takes a while).

import { getJSON } from './api.js';
import { CATEGORIES } from './access.js';
import { formatNumber } from './format.js';
import { t } from './i18n.js';
import { h } from './panel.js';

const cache = {
  access: { state: 'idle', data: null },
  coverage: { state: 'idle', data: null },
};

function load(key, path, onDone) {
  const entry = cache[key];
  if (entry.state === 'loading' || entry.state === 'done') return;
  entry.state = 'loading';
  getJSON(path)
    .then((data) => Object.assign(entry, { state: 'done', data }))
    .catch(() => Object.assign(entry, { state: 'error', data: null }))
    .finally(onDone);
}

const share = (v) => (v === null || v === undefined ? '—' : `${formatNumber(v * 100, 0)}%`);
const pct = (v) => (v === null || v === undefined ? '—' : `${formatNumber(v, 1)}%`);

function accessBlock(app, name, rerender) {
  const entry = cache.access;
  if (entry.state === 'idle') load('access', '/api/analysis/access', rerender);
  if (entry.state !== 'done') {
    return h('p', { class: 'hint', text: entry.state === 'error' ? t('error.load') : t('loading') });
  }
  const rows = entry.data.districts;
  const row = rows.find((r) => r.district.toLowerCase() === name.toLowerCase());
  const city = rows.find((r) => r.district === 'city');
  if (!row) return h('p', { class: 'hint', text: t('dist.none') });
  return [
    h(
      'table',
      { class: 'figures', id: 'dash-access' },
      h('caption', { text: t('dist.access.caption') }),
      h(
        'thead',
        {},
        h('tr', {}, h('th', { scope: 'col', text: t('dist.access.what') }), h('th', { scope: 'col', text: t('dist.m10') }), h('th', { scope: 'col', text: t('dist.m15') }), h('th', { scope: 'col', text: t('dist.city15') })),
      ),
      h(
        'tbody',
        {},
        CATEGORIES.filter((c) => row.share[c]).map((c) =>
          h(
            'tr',
            { 'data-category': c },
            h('th', { scope: 'row', text: t(`acc.cat.${c}`) }),
            h('td', { 'data-value': String(row.share[c]['10']), text: share(row.share[c]['10']) }),
            h('td', { 'data-value': String(row.share[c]['15']), text: share(row.share[c]['15']) }),
            h('td', { text: share(city?.share[c]?.['15']) }),
          ),
        ),
      ),
    ),
    h(
      'dl',
      { class: 'props' },
      h('dt', { text: t('dist.score15') }),
      h('dd', { 'data-value': String(row.score15_mean), text: t('dist.score15.value', { v: formatNumber(row.score15_mean, 1), city: formatNumber(city?.score15_mean, 1) }) }),
      h('dt', { text: t('dist.clinic_step_free') }),
      h('dd', { 'data-value': String(row.accessible_clinic_15), text: t('dist.vs_city', { v: share(row.accessible_clinic_15), city: share(city?.accessible_clinic_15) }) }),
    ),
  ];
}

function coverageBlock(app, name, rerender) {
  const entry = cache.coverage;
  if (entry.state === 'idle' || entry.state === 'error') {
    return [
      entry.state === 'error' ? h('p', { class: 'error', role: 'alert', text: t('error.load') }) : null,
      h('button', {
        id: 'dash-coverage-load',
        type: 'button',
        class: 'btn btn-small',
        text: t('dist.coverage.show'),
        onclick: () => {
          entry.state = 'idle';
          load('coverage', '/api/analysis/coverage/districts', rerender);
          rerender();
        },
      }),
    ];
  }
  if (entry.state === 'loading') {
    return h('p', { class: 'hint busy', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), t('dist.coverage.busy'));
  }
  const row = entry.data.districts.find((r) => r.district.toLowerCase() === name.toLowerCase());
  const city = entry.data.city;
  if (!row) return h('p', { class: 'hint', text: t('dist.none') });
  return [
    h(
      'dl',
      { class: 'props', id: 'dash-coverage' },
      ['street_pct', 'area_pct', 'weighted_pct'].flatMap((k) => [
        h('dt', { text: t(`cov.col.${k}`) }),
        h('dd', { 'data-value': String(row[k]), text: t('dist.vs_city', { v: pct(row[k]), city: pct(city?.[k]) }) }),
      ]),
    ),
    entry.data.synthetic ? h('p', { class: 'hint', text: t('dist.coverage.demo') }) : null,
  ];
}

/** The dashboard's analyses section for district `name` (redrawn through `rerender`). */
export function districtAnalyses(app, name, rerender) {
  return h(
    'section',
    { class: 'dash-analyses', 'aria-labelledby': 'dash-analyses-title' },
    h('h3', { id: 'dash-analyses-title', text: t('dist.title') }),
    accessBlock(app, name, rerender),
    h('h3', { text: t('dist.coverage') }),
    coverageBlock(app, name, rerender),
  );
}
