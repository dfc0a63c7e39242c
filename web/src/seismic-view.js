// "If scenario X happened" in the district dashboard, for planners: the study's losses per
// district (collapsed buildings, fatalities, loss: Amey et al. 2021), the residential buildings
// and people exposed, those on soft ground, and the real schools and clinics on soft ground
// (GET /api/seismic/scenarios and /api/seismic/scenarios/{id}). The sources are cited under
// the figures. Hidden for residents and anonymous visitors (the API answers 401/403 to them).

import { getJSON } from './api.js';
import { formatNumber } from './format.js';
import { t, title as tr } from './i18n.js';
import { h } from './panel.js';

const state = { list: null, listState: 'idle', chosen: null, views: new Map() };

const planner = (app) => ['planner', 'admin'].includes(app.role);
const num = (v, digits = 0) => (v === null || v === undefined ? '—' : formatNumber(v, digits));

function loadList(redraw) {
  state.listState = 'loading';
  getJSON('/api/seismic/scenarios')
    .then((body) => {
      state.list = body.scenarios;
      state.chosen = state.chosen || (body.scenarios.find((s) => s.id === 'city_splay') || body.scenarios[0])?.id;
      state.listState = 'done';
    })
    .catch(() => {
      state.listState = 'error';
    })
    .finally(redraw);
}

function loadView(id, redraw) {
  state.views.set(id, 'loading');
  getJSON(`/api/seismic/scenarios/${encodeURIComponent(id)}`)
    .then((body) => state.views.set(id, body))
    .catch(() => state.views.set(id, 'error'))
    .finally(redraw);
}

function table(app, view, district) {
  const cols = [
    ['collapsed', (r) => num(r.losses?.collapsed_buildings)],
    ['fatalities', (r) => num(r.losses?.fatalities)],
    ['loss', (r) => (r.losses ? num(r.losses.loss_usd / 1e6) : '—')],
    ['buildings', (r) => num(r.buildings)],
    ['people', (r) => num(r.occupants_night)],
    ['soft_buildings', (r) => num(r.buildings_on_soft_ground)],
    ['soft_people', (r) => num(r.occupants_on_soft_ground)],
    ['schools', (r) => num(r.schools_on_soft_ground)],
    ['clinics', (r) => num(r.clinics_on_soft_ground)],
  ];
  return h(
    'div',
    { class: 'table-scroll' },
    h(
      'table',
      { class: 'figures', id: 'dash-seismic' },
      h('caption', { text: t('seis.caption', { name: tr(view.title) }) }),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: t('seis.col.district') }), cols.map(([k]) => h('th', { scope: 'col', text: t(`seis.col.${k}`) })))),
      h(
        'tbody',
        {},
        view.districts.map((r) =>
          h(
            'tr',
            { 'data-district': r.district, class: r.district.toLowerCase() === district.toLowerCase() ? 'current' : null },
            h('th', { scope: 'row', text: app.districtName(r.district) }),
            cols.map(([k, f]) => h('td', { 'data-col': k, text: f(r) })),
          ),
        ),
      ),
    ),
  );
}

function softPlaces(view, district) {
  const row = view.districts.find((r) => r.district.toLowerCase() === district.toLowerCase());
  if (!row) return null;
  const names = [...(row.schools_on_soft_ground_names || []), ...(row.clinics_on_soft_ground_names || [])];
  return h(
    'p',
    { class: 'hint', id: 'dash-seismic-places' },
    names.length ? t('seis.places', { names: names.slice(0, 12).join('; ') }) : t('seis.places.none'),
  );
}

/** The section for district `name`; null for visitors who are not planners. */
export function seismicBlock(app, name, redraw) {
  if (!planner(app)) return null;
  if (state.listState === 'idle') loadList(redraw);
  const head = h('h3', { id: 'dash-seismic-title', text: t('seis.title') });
  if (state.listState !== 'done') {
    return h('section', { class: 'dash-seismic' }, head, h('p', { class: 'hint', text: state.listState === 'error' ? t('error.load') : t('loading') }));
  }
  const id = state.chosen;
  if (!state.views.has(id)) loadView(id, redraw);
  const view = state.views.get(id);
  const select = h(
    'select',
    {
      id: 'dash-seismic-scenario',
      onchange: (e) => {
        state.chosen = e.target.value;
        redraw();
      },
    },
    state.list.map((s) => h('option', { value: s.id, text: tr(s.title), selected: s.id === id })),
  );
  const chosen = state.list.find((s) => s.id === id);
  const city = chosen?.city_totals;
  const body =
    view === 'loading' || view === undefined
      ? h('p', { class: 'hint', text: t('loading') })
      : view === 'error'
        ? h('p', { class: 'error', role: 'alert', text: t('error.load') })
        : [
            table(app, view, name),
            softPlaces(view, name),
            h('p', { class: 'hint', text: t('seis.soft') }),
            h('p', { class: 'hint', text: t('seis.note') }),
            h(
              'p',
              { class: 'source', id: 'dash-seismic-source' },
              `${t('card.source')}: ${view.citation}; ${view.sources.seismic_exposure.source}; ${view.sources.seismic_sites.source}`,
            ),
          ];
  return h(
    'section',
    { class: 'dash-seismic', 'aria-labelledby': 'dash-seismic-title' },
    head,
    h('label', { for: 'dash-seismic-scenario', text: t('seis.scenario') }),
    select,
    city
      ? h(
          'p',
          { class: 'hint', id: 'dash-seismic-city' },
          t('seis.city', {
            collapsed: num(city.collapsed_buildings.mean),
            collapsed_sd: num(city.collapsed_buildings.sd),
            fatalities: num(city.fatalities.mean),
            fatalities_sd: num(city.fatalities.sd),
            loss: num(city.loss_usd.mean / 1e6),
          }),
        )
      : null,
    body,
  );
}
