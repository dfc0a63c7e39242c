// Two optional overlays of the business panel: the network catchment of every existing outlet
// of the category (GET /api/analysis/catchments: who walks to it first, not a circle) and the
// niches (GET /api/analysis/niches: clusters of top-scoring cells with no outlet in reach).

import { publicJSON } from './api.js';
import { errorText, fillsBefore, overBefore } from './analysis-ui.js';
import { outletDataNote } from './business-card.js';
import { openCustomCard } from './card.js';
import { formatNumber } from './format.js';
import { t, title as tr } from './i18n.js';
import { h } from './panel.js';

const KINDS = {
  catchments: { path: '/api/analysis/catchments', colour: '#37474f', source: 'twin-an-catch' },
  niches: { path: '/api/analysis/niches', colour: '#00838f', source: 'twin-an-niche' },
};
const EMPTY = { type: 'FeatureCollection', features: [] };

export function createZones(ctx, { category, weights, status }) {
  const state = { on: { catchments: false, niches: false }, data: {}, error: null };
  const controllers = {};

  function draw() {
    for (const [kind, k] of Object.entries(KINDS)) {
      ctx.map?.getSource(k.source)?.setData(state.on[kind] && state.data[kind] ? state.data[kind] : EMPTY);
    }
  }

  async function load(kind) {
    controllers[kind]?.abort();
    state.data[kind] = null;
    draw();
    if (!state.on[kind] || !category()) return status();
    const controller = new AbortController();
    controllers[kind] = controller;
    const params = { category: category() };
    if (kind === 'niches') params.weights = weights();
    try {
      state.data[kind] = await publicJSON(KINDS[kind].path, params, { signal: controller.signal });
      state.error = null;
    } catch (e) {
      if (e?.name === 'AbortError') return;
      state.error = errorText(e);
    }
    draw();
    status();
  }

  function openFeature(f) {
    const p = f.properties;
    const niche = f.layer.id.startsWith('twin-an-niche');
    const cat = state.data[niche ? 'niches' : 'catchments']?.category;
    openCustomCard(ctx.app, {
      kind: niche ? 'site-niche' : 'site-catchment',
      id: niche ? p.niche : p.fid,
      eyebrow: () => `${t(niche ? 'zones.niches' : 'zones.catchments')} · ${tr(cat?.title)}`,
      title: () => (niche ? t('zones.niche', { n: p.niche }) : p.name || t('zones.outlet', { fid: p.fid })),
      body: () => [
        h(
          'dl',
          { class: 'props' },
          h('dt', { text: t('acc.population') }),
          h('dd', { 'data-prop': 'residents', text: formatNumber(p.residents, 0) }),
          niche
            ? [
                h('dt', { text: t('zones.best') }),
                h('dd', { text: t('zones.best.value', { rank: p.best_rank, score: formatNumber(p.best_score, 0) }) }),
                h('dt', { text: t('zones.captured') }),
                h('dd', { text: formatNumber(p.captured, 0) }),
              ]
            : [
                h('dt', { text: t('load.walk') }),
                h('dd', { text: `${formatNumber(p.mean_walk_min, 0)} / ${formatNumber(p.max_walk_min, 0)} ${t('unit.min')}` }),
              ],
          h('dt', { text: t('zones.cells') }),
          h('dd', { text: formatNumber(p.cells, 0) }),
          p.district ? [h('dt', { text: t('dash.choose') }), h('dd', { text: ctx.app.districtName(p.district) })] : null,
        ),
        h('p', { class: 'hint', text: t(niche ? 'zones.niches.about' : 'zones.catchments.about') }),
        outletDataNote(ctx, cat),
      ],
      geometry: f.geometry,
      focus: false,
    });
  }

  return {
    state,
    /** The two switches, and a line of what they show. */
    controls() {
      return h(
        'div',
        { class: 'toggles' },
        Object.entries(KINDS).map(([kind, k]) =>
          h(
            'label',
            { class: 'check' },
            h('input', {
              type: 'checkbox',
              id: `site-${kind}`,
              checked: state.on[kind],
              onchange: (e) => {
                state.on[kind] = e.target.checked;
                load(kind);
                ctx.save();
              },
            }),
            h('span', { class: 'swatch swatch-line', style: `background:${k.colour}`, 'aria-hidden': 'true' }),
            h('span', { text: t(`zones.${kind}`) }),
            state.on[kind] && state.data[kind]
              ? h('span', { class: 'hint', text: ` (${formatNumber(state.data[kind].features.length, 0)})` })
              : null,
          ),
        ),
        state.error ? h('p', { class: 'error', role: 'alert', text: state.error }) : null,
      );
    },
    /** The category or the weights changed: ask again for what is on. */
    refresh() {
      for (const kind of Object.keys(KINDS)) if (state.on[kind]) load(kind);
    },
    addLayers(map) {
      for (const [kind, k] of Object.entries(KINDS)) {
        map.addSource(k.source, { type: 'geojson', data: EMPTY });
        map.addLayer(
          { id: `${k.source}-fill`, type: 'fill', source: k.source, paint: { 'fill-color': k.colour, 'fill-opacity': kind === 'niches' ? 0.18 : 0.04 } },
          fillsBefore(map),
        );
        map.addLayer(
          {
            id: `${k.source}-line`,
            type: 'line',
            source: k.source,
            paint: { 'line-color': k.colour, 'line-width': kind === 'niches' ? 2.5 : 1.4, 'line-dasharray': kind === 'niches' ? [1, 0] : [3, 2] },
          },
          overBefore(map),
        );
      }
      draw();
    },
    clickLayers: () => Object.entries(KINDS).filter(([kind]) => state.on[kind]).map(([, k]) => `${k.source}-fill`),
    openFeature,
    hash: () => Object.keys(KINDS).filter((k) => state.on[k]),
    applyHash(list) {
      for (const k of list) if (k in KINDS) state.on[k] = true;
    },
  };
}
