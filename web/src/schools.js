// School load: each school's (or kindergarten's) pupils estimated from the residents for whom it
// is the nearest by walking, over its capacity. GET /api/analysis/schools answers the points,
// the overloaded list (most loaded first) and the assumptions, which the panel states.

import { getJSON } from './api.js';
import { errorText, overBefore, renderInto, statusLine } from './analysis-ui.js';
import { openCustomCard } from './card.js';
import { formatNumber } from './format.js';
import { t } from './i18n.js';
import { h } from './panel.js';

const KINDS = ['school', 'kindergarten'];
const SOURCE = 'twin-an-schools';
const EMPTY = { type: 'FeatureCollection', features: [] };
export const LOAD_STEPS = [
  { key: 'ok', color: '#1b7837' },
  { key: 'near', color: '#dfc27d' },
  { key: 'over', color: '#b2182b' },
  { key: 'unknown', color: '#9e9e9e' },
];
const LIST_MAX = 12;

function loadColour(overloadAt) {
  return [
    'case',
    ['==', ['typeof', ['get', 'load']], 'number'],
    ['step', ['get', 'load'], LOAD_STEPS[0].color, 0.85 * overloadAt, LOAD_STEPS[1].color, overloadAt + 1e-9, LOAD_STEPS[2].color],
    LOAD_STEPS[3].color,
  ];
}

const pct = (load) => (load === null || load === undefined ? '—' : `${formatNumber(load * 100, 0)}%`);

export function createSchools(ctx) {
  const state = { kind: '', data: null, busy: false, error: null };
  let root = null;
  let controller = null;

  function draw() {
    const map = ctx.map;
    const src = map?.getSource(SOURCE);
    if (!src) return;
    src.setData(state.kind && state.data ? state.data : EMPTY);
    const at = state.data?.assumptions?.overload_at ?? 1;
    if (map.getLayer('twin-an-schools')) map.setPaintProperty('twin-an-schools', 'circle-color', loadColour(at));
  }

  async function choose(kind) {
    state.kind = kind;
    state.data = null;
    state.error = null;
    controller?.abort();
    const map = ctx.map;
    if (map?.getLayer('twin-an-schools')) {
      map.setLayoutProperty('twin-an-schools', 'visibility', kind ? 'visible' : 'none');
    }
    draw();
    ctx.save();
    if (!kind) return rerender();
    controller = new AbortController();
    state.busy = true;
    rerender();
    try {
      state.data = await getJSON('/api/analysis/schools', { kind }, { signal: controller.signal });
    } catch (e) {
      if (e?.name === 'AbortError') return;
      state.error = errorText(e);
    }
    state.busy = false;
    draw();
    rerender();
  }

  /** The assumptions of the estimate as a sentence in the interface language. */
  function assumptions(a) {
    if (!a) return null;
    return h(
      'p',
      { class: 'hint assumptions', id: 'schools-assumptions' },
      t(`load.assume.${a.kind}`, {
        share: formatNumber(a.age_share * 100, 0),
        ages: a.age_range,
        over: formatNumber(a.overload_at * 100, 0),
        speed: formatNumber(a.walk_kmh, 1),
      }),
    );
  }

  function legend(at) {
    return h(
      'ul',
      { class: 'legend', id: 'schools-legend', 'aria-label': t('load.legend') },
      LOAD_STEPS.map((s) =>
        h(
          'li',
          {},
          h('span', { class: 'swatch swatch-circle', style: `background:${s.color}`, 'aria-hidden': 'true' }),
          h('span', { text: t(`load.step.${s.key}`, { near: formatNumber(85 * at, 0), over: formatNumber(100 * at, 0) }) }),
        ),
      ),
    );
  }

  function focusSchool(f) {
    const [lon, lat] = f.geometry.coordinates;
    ctx.map.jumpTo({ center: [lon, lat], zoom: Math.max(ctx.map.getZoom(), 14) });
    openFeature(f, null, { focus: true });
  }

  function rerender() {
    if (!root) return;
    const d = state.data;
    const over = d?.overloaded || [];
    const byFid = new Map((d?.features || []).map((f) => [f.properties.fid, f]));
    renderInto(
      root,
      h('label', { for: 'schools-kind', text: t('load.kind') }),
      h(
        'select',
        { id: 'schools-kind', onchange: (e) => choose(e.target.value) },
        h('option', { value: '', text: t('acc.none') }),
        KINDS.map((k) => h('option', { value: k, selected: k === state.kind, text: t(`load.kind.${k}`) })),
      ),
      state.kind ? statusLine('schools-status', { busy: state.busy, error: state.error }) : null,
      d && state.kind
        ? [
            legend(d.assumptions?.overload_at ?? 1),
            h('p', { id: 'schools-summary', 'data-overloaded': String(over.length), text: t('load.summary', { n: over.length, of: d.features.length }) }),
            over.length
              ? h(
                  'ol',
                  { class: 'ranked', id: 'schools-overloaded', 'aria-label': t('load.overloaded') },
                  over.slice(0, LIST_MAX).map((s, i) =>
                    h(
                      'li',
                      {},
                      h('button', {
                        type: 'button',
                        class: 'link-button',
                        'data-fid': String(s.fid),
                        text: `${i + 1}. ${s.name || t('card.unnamed')} · ${ctx.app.districtName(s.district)} · ${pct(s.load)}`,
                        onclick: () => byFid.has(s.fid) && focusSchool(byFid.get(s.fid)),
                      }),
                    ),
                  ),
                )
              : null,
            assumptions(d.assumptions),
          ]
        : null,
    );
  }

  function openFeature(f, _lngLat, { focus = false } = {}) {
    const p = f.properties;
    const kind = p.kind || state.kind;
    openCustomCard(ctx.app, {
      kind: 'school-load',
      id: p.fid,
      eyebrow: () => t('load.card', { kind: t(`load.kind.${kind}`) }),
      title: () => p.name || t('card.unnamed'),
      body: () => [
        p.overloaded ? h('p', { class: 'badge badge-alert', text: t('load.is_over') }) : null,
        h(
          'dl',
          { class: 'props' },
          h('dt', { text: t('load.load') }),
          h('dd', { 'data-prop': 'load', text: p.load === null || p.load === undefined ? t('load.no_capacity') : pct(p.load) }),
          h('dt', { text: t('load.pupils') }),
          h('dd', { 'data-prop': 'pupils_estimate', text: formatNumber(p.pupils_estimate, 0) }),
          h('dt', { text: t('load.capacity') }),
          h('dd', { 'data-prop': 'capacity', text: p.capacity ? formatNumber(p.capacity, 0) : '—' }),
          h('dt', { text: t('load.residents') }),
          h('dd', { text: formatNumber(p.catchment_residents, 0) }),
          h('dt', { text: t('load.walk') }),
          h('dd', { text: `${formatNumber(p.mean_walk_min, 0)} / ${formatNumber(p.max_walk_min, 0)} ${t('unit.min')}` }),
          p.district ? [h('dt', { text: t('dash.choose') }), h('dd', { text: ctx.app.districtName(p.district) })] : null,
        ),
        p.synthetic ? h('p', { class: 'badge badge-demo', text: t('demo.badge') }) : null,
        h(
          'div',
          { class: 'card-actions' },
          h('button', {
            id: 'card-isochrone',
            type: 'button',
            class: 'btn btn-small',
            text: t('iso.from_here'),
            onclick: () => ctx.isochroneFrom({ layer: 'schools', fid: p.fid, name: p.name }),
          }),
        ),
        assumptions(state.data?.assumptions),
      ],
      geometry: f.geometry,
      focus,
    });
  }

  return {
    id: 'schools',
    state,
    choose,
    mount(el) {
      root = el;
      rerender();
    },
    rerender,
    relabel: rerender,
    addLayers(map) {
      map.addSource(SOURCE, { type: 'geojson', data: EMPTY });
      map.addLayer(
        {
          id: 'twin-an-schools',
          type: 'circle',
          source: SOURCE,
          layout: { visibility: state.kind ? 'visible' : 'none', 'circle-sort-key': ['coalesce', ['get', 'load'], 0] },
          paint: {
            'circle-radius': ['interpolate', ['linear'], ['zoom'], 10, ['case', ['get', 'overloaded'], 5, 3.5], 16, ['case', ['get', 'overloaded'], 11, 7]],
            'circle-color': loadColour(1),
            'circle-stroke-color': ['case', ['get', 'overloaded'], '#2b0a0f', '#ffffff'],
            'circle-stroke-width': ['case', ['get', 'overloaded'], 2, 1],
          },
        },
        overBefore(map),
      );
      draw();
    },
    clickLayers: () => (state.kind ? ['twin-an-schools'] : []),
    openFeature,
    hash: () => [['schools', state.kind || null]],
    applyHash(p) {
      if (KINDS.includes(p.get('schools'))) state.kind = p.get('schools');
    },
    start() {
      if (state.kind) choose(state.kind);
    },
  };
}
