// Appeal hot spots on the map, for staff (a planner or admin key): Getis-Ord Gi* of a
// category's appeals on H3 cells over the staff period (GET /api/analysis/appeals/hotspots,
// 999 permutations, FDR-corrected), drawn as hot and cold cells in two significance classes
// (p ≤ 0.01; significant after the false-discovery-rate correction), or the emerging hot spots
// of the last 12 months (GET /api/analysis/appeals/emerging: new, intensifying, persistent,
// diminishing, sporadic), with a legend counting each class. Cells no test found significant
// are not drawn. Signed out, the layer is emptied: a resident's map never holds these cells.

import { getJSON } from './api.js';
import { fillsBefore, latestOnly, renderInto, statusLine } from './analysis-ui.js';
import { formatNumber } from './format.js';
import { t } from './i18n.js';
import { h } from './panel.js';
import { exportButtons, isStaff, servicesSection } from './appeal-staff.js';

const SOURCE = 'twin-ap-hot';
export const HOT_LAYER = 'twin-ap-hot';
const EMPTY = { type: 'FeatureCollection', features: [] };

// Diverging red–blue (ColorBrewer RdBu) for Gi*; a sequential red for the emerging classes,
// the sporadic ones grey: they are hot now and then, with no pattern.
export const CLASS_COLORS = {
  gi: { hot99: '#b2182b', hot95: '#ef8a62', cold95: '#67a9cf', cold99: '#2166ac' },
  emerging: { new: '#e31a1c', intensifying: '#fd8d3c', persistent: '#800026', diminishing: '#fed976', sporadic: '#9e9e9e' },
};

/** A Gi* cell's class: its side (hot/cold, significant after FDR) and whether p ≤ 0.01. */
export function giClass(label, p) {
  if (label !== 'hot' && label !== 'cold') return null;
  return `${label}${p <= 0.01 ? '99' : '95'}`;
}

export function createAppealHotspots(ctx, period) {
  const state = { mode: 'gi', res: 8, category: '', data: null, busy: false, error: null, picked: null, services: [] };
  let root = null;
  const requests = latestOnly(state, rerender);
  // the legend on the map too: on a phone the panel closes to show the map, taking its legend
  const mapLegend = h('div', { id: 'ap-hot-maplegend', class: 'ap-hot-maplegend', role: 'region', hidden: true });
  document.getElementById('map').after(mapLegend);

  function features() {
    const d = state.data;
    if (!d) return [];
    return d.features
      .map((f) => {
        const cls = d.mode === 'gi' ? giClass(f.properties.label, f.properties.p) : f.properties.label;
        return cls ? { ...f, properties: { ...f.properties, class: cls } } : null;
      })
      .filter(Boolean);
  }

  function draw() {
    const source = ctx.map?.getSource(SOURCE);
    if (!source) return;
    source.setData(state.data ? { type: 'FeatureCollection', features: features() } : EMPTY);
    const colors = CLASS_COLORS[state.data?.mode ?? 'gi'];
    ctx.map.setPaintProperty(HOT_LAYER, 'fill-color', ['match', ['get', 'class'], ...Object.entries(colors).flat(), '#000000']);
    drawMapLegend();
  }

  function drawMapLegend() {
    mapLegend.hidden = !state.data;
    mapLegend.setAttribute('aria-label', t('ap.hot.title'));
    mapLegend.replaceChildren(...(state.data ? [h('strong', { text: t('ap.hot.title') }), legend(true)[0]] : []));
  }

  function run() {
    const mode = state.mode;
    const asking =
      mode === 'gi'
        ? { path: '/api/analysis/appeals/hotspots', params: { res: state.res, category: state.category, start: period.start, end: period.end } }
        : { path: '/api/analysis/appeals/emerging', params: { res: state.res, category: state.category, as_of: period.end } };
    state.picked = null;
    return requests.run(
      () => getJSON(asking.path, asking.params),
      (data) => {
        Object.assign(state, { data: { ...data, mode }, asked: asking });
        draw();
      },
    );
  }

  function clear() {
    requests.forget({ picked: null });
    draw();
    rerender();
  }

  function legend(inMap = false) {
    const d = state.data;
    if (!d) return null;
    const counts = {};
    for (const f of features()) counts[f.properties.class] = (counts[f.properties.class] ?? 0) + 1;
    const colors = CLASS_COLORS[d.mode];
    return [
      h(
        'ul',
        { class: 'legend ap-hot-legend', id: inMap ? null : 'ap-hot-legend' },
        Object.entries(colors).map(([cls, color]) =>
          h(
            'li',
            { 'data-class': cls, 'data-count': String(counts[cls] ?? 0) },
            h('span', { class: 'swatch swatch-fill', style: `background:${color}`, 'aria-hidden': 'true' }),
            h('span', { text: `${t(`ap.hot.class.${cls}`)}: ${formatNumber(counts[cls] ?? 0, 0)}` }),
          ),
        ),
      ),
      d.mode === 'gi' && d.fdr_threshold ? h('p', { class: 'hint', text: t('ap.hot.fdr', { p: formatNumber(d.fdr_threshold, 3) }) }) : null,
      features().length ? null : h('p', { class: 'hint', text: t('ap.hot.none') }),
    ];
  }

  function picked() {
    const p = state.picked;
    if (!p) return null;
    const z = p.z === undefined ? '—' : formatNumber(p.z, 2);
    const pv = p.p === undefined ? '—' : formatNumber(p.p, 3);
    const head = t('ap.hot.cell', { cell: p.cell, count: p.count ?? '—', z, p: pv });
    return h('p', { id: 'ap-hot-picked', class: 'hint', role: 'status', text: `${head} — ${t(`ap.hot.class.${p.class}`)}` });
  }

  function rerender() {
    if (!root) return;
    const select = (id, key, options, label) => [
      h('label', { for: id, text: label }),
      h(
        'select',
        { id, onchange: (e) => (state[key] = key === 'res' ? Number(e.target.value) : e.target.value) },
        options.map(([value, text]) => h('option', { value, text, selected: String(state[key]) === String(value) })),
      ),
    ];
    renderInto(
      root,
      h('h3', { text: t('ap.hot.title') }),
      h('p', { class: 'hint', text: t('ap.hot.about') }),
      select('ap-hot-mode', 'mode', [['gi', t('ap.hot.gi')], ['emerging', t('ap.hot.emerging')]], t('ap.hot.mode')),
      select('ap-hot-category', 'category', [['', t('ap.all')], ...state.services.map((s) => [s.service_code, s.service_name])], t('ap.category')),
      select('ap-hot-res', 'res', [[8, t('ap.hot.res8')], [9, t('ap.hot.res9')]], t('ap.hot.res')),
      h(
        'div',
        { class: 'inline' },
        h('button', { id: 'ap-hot-run', type: 'button', class: 'btn btn-small', text: t('ap.hot.show'), disabled: state.busy, onclick: run }),
        state.data ? h('button', { id: 'ap-hot-clear', type: 'button', class: 'btn btn-small', text: t('ap.hot.clear'), onclick: clear }) : null,
      ),
      statusLine('ap-hot-status', { busy: state.busy ? t('ap.hot.busy') : false, error: state.error }),
      legend(),
      state.data && state.asked
        ? exportButtons(
            'ap-hot-export',
            ['geojson', 'csv'].map((kind) => ({ kind, path: state.asked.path, params: { ...state.asked.params, format: kind } })),
            requests.fail,
          )
        : null,
      picked(),
    );
    drawMapLegend();
  }

  return servicesSection(ctx, {
    id: 'appeal-hotspots',
    state,
    rerender,
    keep: (el) => (root = el),
    // signed out: nothing of the staff's analysis may stay on the page or the map
    forget: clear,
    addLayers(map) {
      map.addSource(SOURCE, { type: 'geojson', data: EMPTY });
      map.addLayer(
        {
          id: HOT_LAYER,
          type: 'fill',
          source: SOURCE,
          paint: { 'fill-color': '#000000', 'fill-opacity': 0.6, 'fill-outline-color': 'rgba(255,255,255,0.7)' },
        },
        fillsBefore(map),
      );
      // a style load comes with a sign-in or out: a resident's map gets an empty layer
      if (!isStaff(ctx.app)) Object.assign(state, { data: null, picked: null });
      draw();
    },
    clickLayers: () => (isStaff(ctx.app) && state.data ? [HOT_LAYER] : []),
    openFeature(f) {
      state.picked = { ...f.properties };
      rerender();
    },
  });
}
