// Isochrones: how far one gets in 5, 10, 15 and 20 minutes on the street network, from a click
// on the map (in isochrone mode) or from a school, clinic or bus stop ("from here" in its card).
// GET /api/analysis/isochrone answers the polygons largest first; they are drawn stacked and the
// card lists the bands with their areas.

import { getJSON } from './api.js';
import { errorText, fillsBefore, overBefore, renderInto, statusLine } from './analysis-ui.js';
import { cardKind, closeCard, openCustomCard } from './card.js';
import { formatNumber } from './format.js';
import { t } from './i18n.js';
import { h } from './panel.js';

export const BANDS = [5, 10, 15, 20];
// Sequential blues (colour-blind safe): the nearer, the darker.
export const BAND_COLOURS = { 5: '#08519c', 10: '#3182bd', 15: '#6baed6', 20: '#bdd7e7' };
export const MODES = ['walk', 'wheelchair', 'drive'];

const SOURCE = 'twin-an-iso';
const EMPTY = { type: 'FeatureCollection', features: [] };

function bandColour() {
  const match = ['match', ['to-number', ['get', 'minutes']]];
  for (const m of BANDS) match.push(m, BAND_COLOURS[m]);
  match.push('#6baed6');
  return match;
}

/** The legend of the bands: a swatch, the minutes and the area reached. */
export function bandLegend(features) {
  const byMinutes = new Map(features.map((f) => [Number(f.properties.minutes), f.properties]));
  return h(
    'ul',
    { class: 'legend legend-rows iso-legend', 'aria-label': t('iso.legend') },
    BANDS.map((m) => {
      const p = byMinutes.get(m);
      return h(
        'li',
        { 'data-minutes': String(m) },
        h('span', { class: 'swatch swatch-fill', style: `background:${BAND_COLOURS[m]}`, 'aria-hidden': 'true' }),
        h('span', { text: t('iso.band', { m }) }),
        p ? h('span', { class: 'legend-figure', text: `${formatNumber(p.area_km2)} ${t('unit.km2')}` }) : null,
      );
    }),
  );
}

export function createIsochrone(ctx) {
  const state = { mode: 'walk', origin: null, data: null, busy: false, error: null };
  let root = null;
  let controller = null;

  const tool = {
    name: 'isochrone',
    title: () => t('iso.tool'),
    hint: () => t('iso.tool.hint'),
    controls: () => [
      modeSelect('iso-tool-mode'),
      h('button', {
        id: 'iso-centre',
        type: 'button',
        class: 'btn btn-small',
        text: t('iso.centre'),
        onclick: () => {
          const c = ctx.map.getCenter();
          open({ lon: c.lng, lat: c.lat });
        },
      }),
    ],
    click: (lngLat) => open({ lon: lngLat.lng, lat: lngLat.lat }),
  };

  function modeSelect(id) {
    return h(
      'span',
      { class: 'field-inline' },
      h('label', { for: id, text: t('iso.mode') }),
      h(
        'select',
        {
          id,
          onchange: (e) => {
            state.mode = e.target.value;
            if (state.origin) open(state.origin, { focus: false });
            else rerender();
            ctx.save();
          },
        },
        MODES.map((m) => h('option', { value: m, selected: m === state.mode, text: t(`iso.mode.${m}`) })),
      ),
    );
  }

  function originLabel() {
    const o = state.origin;
    if (!o) return '';
    if (o.name) return o.name;
    const [lon, lat] = state.data?.origin || [o.lon, o.lat];
    if (lon === undefined) return t('iso.feature');
    return t('iso.point', { lat: lat.toFixed(5), lon: lon.toFixed(5) });
  }

  function draw() {
    const src = ctx.map?.getSource(SOURCE);
    if (!src) return;
    if (!state.data) return src.setData(EMPTY);
    const [lon, lat] = state.data.origin;
    src.setData({
      type: 'FeatureCollection',
      features: [
        ...state.data.features,
        { type: 'Feature', geometry: { type: 'Point', coordinates: [lon, lat] }, properties: { origin: true } },
      ],
    });
  }

  function cardBody() {
    const d = state.data;
    const snap = d?.features[0]?.properties.snap_m;
    return [
      state.busy || state.error ? statusLine('iso-card-status', { busy: state.busy, error: state.error }) : null,
      d ? bandLegend(d.features) : null,
      h('div', { class: 'field-row' }, modeSelect('iso-card-mode')),
      snap !== undefined && snap > 0 ? h('p', { class: 'hint', text: t('iso.snap', { m: formatNumber(snap, 0) }) }) : null,
      h('p', { class: 'hint', text: t('iso.note') }),
      h('button', { id: 'iso-clear-card', type: 'button', class: 'btn btn-small', text: t('iso.clear'), onclick: () => clear() }),
    ];
  }

  function showCard(focus) {
    const card = openCustomCard(ctx.app, {
      kind: 'isochrone',
      eyebrow: () => `${t('iso.title')} · ${t(`iso.mode.${state.mode}`)}`,
      title: originLabel,
      body: cardBody,
      geometry: null,
      focus,
    });
    return card;
  }

  /** Draw the isochrones from {lon, lat} or from a feature {layer, fid, name}. */
  async function open(origin, { focus = true } = {}) {
    controller?.abort();
    controller = new AbortController();
    state.origin = origin;
    state.busy = true;
    state.error = null;
    showCard(focus && !ctx.tool());
    rerender();
    const params = { minutes: BANDS.join(','), mode: state.mode };
    if (origin.layer) Object.assign(params, { layer: origin.layer, fid: origin.fid });
    else Object.assign(params, { lon: origin.lon.toFixed(6), lat: origin.lat.toFixed(6) });
    try {
      state.data = await getJSON('/api/analysis/isochrone', params, { signal: controller.signal });
      state.busy = false;
    } catch (e) {
      if (e?.name === 'AbortError') return;
      state.busy = false;
      state.data = null;
      state.error = errorText(e);
    }
    draw();
    if (cardKind() === 'isochrone') showCard(false);
    rerender();
    ctx.save();
  }

  function clear() {
    controller?.abort();
    state.origin = null;
    state.data = null;
    state.error = null;
    state.busy = false;
    draw();
    if (cardKind() === 'isochrone') closeCard(ctx.app);
    rerender();
    ctx.save();
  }

  function rerender() {
    if (!root) return;
    const on = ctx.tool() === tool;
    renderInto(
      root,
      h('h3', { text: t('iso.title') }),
      h('p', { class: 'hint', text: t('iso.about') }),
      h(
        'div',
        { class: 'inline' },
        h('button', {
          id: 'iso-toggle',
          type: 'button',
          class: 'btn btn-small',
          'aria-pressed': String(on),
          text: on ? t('iso.tool.on') : t('iso.tool.start'),
          onclick: () => ctx.setTool(on ? null : tool),
        }),
        state.data || state.busy
          ? h('button', { id: 'iso-clear', type: 'button', class: 'btn btn-small', text: t('iso.clear'), onclick: () => clear() })
          : null,
      ),
      modeSelect('iso-mode'),
      state.busy || state.error ? statusLine('iso-status', { busy: state.busy, error: state.error }) : null,
      state.data ? h('p', { class: 'hint', text: `${t('iso.from')}: ${originLabel()}` }) : null,
      state.data ? bandLegend(state.data.features) : null,
    );
  }

  return {
    id: 'isochrone',
    open,
    clear,
    state,
    tool,
    mount(el) {
      root = el;
      rerender();
    },
    rerender,
    addLayers(map) {
      map.addSource(SOURCE, { type: 'geojson', data: EMPTY });
      map.addLayer(
        {
          id: 'twin-an-iso-fill',
          type: 'fill',
          source: SOURCE,
          filter: ['has', 'minutes'],
          paint: { 'fill-color': bandColour(), 'fill-opacity': 0.28 },
        },
        fillsBefore(map),
      );
      map.addLayer(
        {
          id: 'twin-an-iso-line',
          type: 'line',
          source: SOURCE,
          filter: ['has', 'minutes'],
          paint: { 'line-color': bandColour(), 'line-width': 1.6 },
        },
        overBefore(map),
      );
      map.addLayer(
        {
          id: 'twin-an-iso-origin',
          type: 'circle',
          source: SOURCE,
          filter: ['has', 'origin'],
          paint: { 'circle-radius': 6, 'circle-color': '#08306b', 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 2 },
        },
        overBefore(map),
      );
      draw();
    },
    hash() {
      const o = state.origin;
      if (!o || state.error) return [];
      const where = o.layer ? `${o.layer}:${o.fid}` : `${o.lon.toFixed(5)},${o.lat.toFixed(5)}`;
      return [['iso', where], ['isomode', state.mode !== 'walk' ? state.mode : null]];
    },
    applyHash(p) {
      if (MODES.includes(p.get('isomode'))) state.mode = p.get('isomode');
      const iso = p.get('iso') || '';
      const feature = iso.match(/^(\w+):(\d+)$/);
      const point = iso.split(',').map(Number);
      if (feature) state.pending = { layer: feature[1], fid: Number(feature[2]) };
      else if (point.length === 2 && point.every(Number.isFinite)) state.pending = { lon: point[0], lat: point[1] };
    },
    /** Run the isochrone the URL names, once the map is there. */
    start() {
      if (state.pending) open(state.pending, { focus: false });
      state.pending = null;
    },
  };
}
