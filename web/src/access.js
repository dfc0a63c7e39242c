// Walking access by category: populated H3 hexagons coloured by the walk to the nearest school,
// kindergarten, clinic, bus stop or park (or the 15-minute-city score), on foot or by
// wheelchair. GET /api/analysis/access?view=cells always with a bbox around the current view;
// moving within the fetched area asks nothing new.

import { getJSON } from './api.js';
import { errorText, fillsBefore, overBefore, renderInto, ringCentre, statusLine, viewBbox } from './analysis-ui.js';
import { openCustomCard } from './card.js';
import { formatNumber } from './format.js';
import { t } from './i18n.js';
import { h } from './panel.js';

export const CATEGORIES = ['school', 'kindergarten', 'clinic', 'bus_stop', 'park'];
const PROFILES = ['walk', 'wheelchair'];
const SCORE = 'score15';
// The isochrone blues up to 20 minutes, then orange past 20 and beyond an hour (no route).
export const STEPS = [
  { key: 'le5', color: '#08519c' },
  { key: 'le10', color: '#3182bd' },
  { key: 'le15', color: '#6baed6' },
  { key: 'le20', color: '#bdd7e7' },
  { key: 'gt20', color: '#fdae6b' },
  { key: 'gt60', color: '#d94801' },
];
const SCORE_COLOURS = ['#d94801', '#fdae6b', '#fdd0a2', '#bdd7e7', '#6baed6', '#08519c'];
const SOURCE = 'twin-an-access';
const EMPTY = { type: 'FeatureCollection', features: [] };
const MIN_CELL_ZOOM = 10;

function fillColour(category) {
  if (category === SCORE) {
    const m = ['match', ['to-number', ['get', SCORE]]];
    SCORE_COLOURS.forEach((c, i) => m.push(i, c));
    m.push('#cccccc');
    return m;
  }
  const prop = `${category}_min`;
  const c = STEPS.map((s) => s.color);
  return ['step', ['coalesce', ['get', prop], 1000], c[0], 5, c[1], 10, c[2], 15, c[3], 20, c[4], 60.0001, c[5]];
}

function inside(inner, outer) {
  return outer && inner[0] >= outer[0] && inner[1] >= outer[1] && inner[2] <= outer[2] && inner[3] <= outer[3];
}

function padded([w, s, e, n]) {
  const dx = (e - w) / 2;
  const dy = (n - s) / 2;
  return [Math.max(w - dx, 75.9), Math.max(s - dy, 42.8), Math.min(e + dx, 78.0), Math.min(n + dy, 43.8)];
}

export function minutesText(v) {
  if (v === null || v === undefined) return t('acc.over60');
  return `${formatNumber(v, 0)} ${t('unit.min')}`;
}

export function createAccess(ctx) {
  const state = { category: '', profile: 'walk', data: null, box: null, busy: false, error: null };
  let root = null;
  let controller = null;
  let timer = 0;
  let listening = false;

  function legend() {
    if (state.category === SCORE) {
      return h(
        'ul',
        { class: 'legend', 'aria-label': t('acc.legend') },
        SCORE_COLOURS.map((c, i) =>
          h('li', {}, h('span', { class: 'swatch swatch-fill', style: `background:${c}`, 'aria-hidden': 'true' }), h('span', { text: t('acc.score.n', { n: i }) })),
        ),
      );
    }
    return h(
      'ul',
      { class: 'legend', id: 'access-legend', 'aria-label': t('acc.legend') },
      STEPS.map((s) =>
        h('li', {}, h('span', { class: 'swatch swatch-fill', style: `background:${s.color}`, 'aria-hidden': 'true' }), h('span', { text: t(`acc.step.${s.key}`) })),
      ),
    );
  }

  function draw() {
    const map = ctx.map;
    const src = map?.getSource(SOURCE);
    if (!src) return;
    src.setData(state.category && state.data ? state.data : EMPTY);
    if (state.category && map.getLayer('twin-an-access-fill')) {
      map.setPaintProperty('twin-an-access-fill', 'fill-color', fillColour(state.category));
    }
  }

  async function load({ force = false } = {}) {
    const map = ctx.map;
    if (!state.category || !map) return;
    if (map.getZoom() < MIN_CELL_ZOOM - 0.01) {
      state.error = null;
      state.note = t('acc.zoom_in');
      rerender();
      return;
    }
    state.note = null;
    const view = viewBbox(map);
    if (!force && inside(view, state.box)) return;
    const box = padded(view);
    controller?.abort();
    controller = new AbortController();
    state.busy = true;
    state.error = null;
    rerender();
    try {
      const data = await getJSON(
        '/api/analysis/access',
        {
          view: 'cells',
          category: state.category === SCORE ? undefined : state.category,
          profile: state.profile,
          bbox: box.map((v) => v.toFixed(5)).join(','),
        },
        { signal: controller.signal },
      );
      state.data = data;
      state.box = box;
    } catch (e) {
      if (e?.name === 'AbortError') return;
      state.error = errorText(e);
    }
    state.busy = false;
    draw();
    rerender();
  }

  function choose(category, profile) {
    const changed = category !== state.category || profile !== state.profile;
    state.category = category;
    state.profile = profile;
    if (changed) {
      state.data = null;
      state.box = null;
    }
    const map = ctx.map;
    if (map?.getLayer('twin-an-access-fill')) {
      for (const id of ['twin-an-access-fill', 'twin-an-access-line']) {
        map.setLayoutProperty(id, 'visibility', category ? 'visible' : 'none');
      }
    }
    draw();
    rerender();
    if (category) load({ force: true });
    ctx.save();
  }

  function rerender() {
    if (!root) return;
    const categorySelect = h(
      'select',
      { id: 'access-category', onchange: (e) => choose(e.target.value, state.profile) },
      h('option', { value: '', text: t('acc.none') }),
      CATEGORIES.map((c) => h('option', { value: c, selected: c === state.category, text: t(`acc.cat.${c}`) })),
      h('option', { value: SCORE, selected: state.category === SCORE, text: t('acc.cat.score15') }),
    );
    const profileSelect = h(
      'select',
      { id: 'access-profile', onchange: (e) => choose(state.category, e.target.value) },
      PROFILES.map((p) => h('option', { value: p, selected: p === state.profile, text: t(`iso.mode.${p}`) })),
    );
    const count = state.data?.features.length;
    renderInto(
      root,
      h('h3', { text: t('acc.title') }),
      h('label', { for: 'access-category', text: t('acc.category') }),
      categorySelect,
      h('label', { for: 'access-profile', text: t('acc.profile') }),
      profileSelect,
      state.category
        ? [
            statusLine('access-status', {
              busy: state.busy,
              error: state.error,
              note: state.note || (count !== undefined ? t('acc.cells', { n: formatNumber(count, 0) }) : ''),
            }),
            legend(),
            h('p', { class: 'hint', text: state.profile === 'wheelchair' ? t('acc.note.wheelchair') : t('acc.note') }),
          ]
        : null,
    );
  }

  function openFeature(f) {
    const p = f.properties;
    const category = state.category;
    const profile = state.profile;
    // The map's copy is cut at tile edges: the answer's own hexagon is whole.
    const full = state.data?.features.find((x) => x.properties.h3 === p.h3);
    const geometry = full?.geometry || f.geometry;
    const centre = ringCentre(geometry);
    openCustomCard(ctx.app, {
      kind: 'access-cell',
      id: p.h3,
      eyebrow: () => `${t('acc.title')} · ${t(`iso.mode.${profile}`)}`,
      title: () =>
        category === SCORE
          ? t('acc.score.n', { n: p.score15 })
          : `${t(`acc.cat.${category}`)}: ${minutesText(p[`${category}_min`])}`,
      body: () => [
        h(
          'dl',
          { class: 'props' },
          h('dt', { text: t('acc.population') }),
          h('dd', { 'data-prop': 'population', text: formatNumber(p.population, 0) }),
          ...CATEGORIES.filter((c) => `${c}_min` in p).flatMap((c) => [
            h('dt', { text: t(`acc.cat.${c}`) }),
            h('dd', { 'data-prop': `${c}_min`, text: minutesText(p[`${c}_min`] ?? null) }),
          ]),
          h('dt', { text: t('acc.score') }),
          h('dd', { 'data-prop': 'score15', text: String(p.score15) }),
          p.district ? [h('dt', { text: t('dash.choose') }), h('dd', { text: ctx.app.districtName(p.district) })] : null,
        ),
        centre
          ? h('button', {
              type: 'button',
              class: 'btn btn-small',
              text: t('iso.from_here'),
              onclick: () => ctx.isochroneFrom({ lon: centre[0], lat: centre[1] }),
            })
          : null,
      ],
      geometry,
      focus: false,
    });
  }

  return {
    id: 'access',
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
      const visibility = state.category ? 'visible' : 'none';
      map.addLayer(
        {
          id: 'twin-an-access-fill',
          type: 'fill',
          source: SOURCE,
          layout: { visibility },
          paint: { 'fill-color': fillColour(state.category || 'school'), 'fill-opacity': 0.6 },
        },
        fillsBefore(map),
      );
      map.addLayer(
        {
          id: 'twin-an-access-line',
          type: 'line',
          source: SOURCE,
          minzoom: 12,
          layout: { visibility },
          paint: { 'line-color': '#ffffff', 'line-width': 0.6, 'line-opacity': 0.7 },
        },
        overBefore(map),
      );
      draw();
      if (!listening) {
        // The map object outlives style reloads: listen once.
        listening = true;
        map.on('moveend', () => {
          clearTimeout(timer);
          timer = setTimeout(() => load(), 250);
        });
      }
    },
    clickLayers: () => (state.category ? ['twin-an-access-fill'] : []),
    openFeature,
    hash: () => [['access', state.category ? [state.category, state.profile !== 'walk' ? state.profile : null].filter(Boolean).join(',') : null]],
    applyHash(p) {
      const [category, profile] = (p.get('access') || '').split(',');
      if (CATEGORIES.includes(category) || category === SCORE) state.category = category;
      if (PROFILES.includes(profile)) state.profile = profile;
    },
    start() {
      if (state.category) choose(state.category, state.profile);
    },
  };
}
