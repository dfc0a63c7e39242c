// The coverage results on the map: coverage and white spots (from /api/analysis/results), the
// suggested and what-if cameras, and the cards a click on them opens.

import { fillsBefore, overBefore } from './analysis-ui.js';
import { openCustomCard } from './card.js';
import { REGULAR } from './fonts.js';
import { formatNumber } from './format.js';
import { t } from './i18n.js';
import { h } from './panel.js';

const RESULTS = 'twin-an-cov';
const CAMS = 'twin-an-cams';
const EMPTY = { type: 'FeatureCollection', features: [] };
export const COVERAGE_COLOUR = '#1f78b4';
export const SPOT_COLOUR = '#e7298a';
export const PROPOSED_COLOUR = '#ff7f00';
export const ADDED_COLOUR = '#6a3d9a';
export const CLICK_LAYERS = ['twin-an-cams', 'twin-an-spots-fill'];

export function addCoverageLayers(map) {
  map.addSource(RESULTS, { type: 'geojson', data: EMPTY });
  map.addSource(CAMS, { type: 'geojson', data: EMPTY });
  const fills = fillsBefore(map);
  const over = overBefore(map);
  map.addLayer(
    { id: 'twin-an-cov-fill', type: 'fill', source: RESULTS, filter: ['==', ['get', 'layer'], 'coverage'], paint: { 'fill-color': COVERAGE_COLOUR, 'fill-opacity': 0.32 } },
    fills,
  );
  map.addLayer(
    { id: 'twin-an-spots-fill', type: 'fill', source: RESULTS, filter: ['==', ['get', 'layer'], 'white_spots'], paint: { 'fill-color': SPOT_COLOUR, 'fill-opacity': 0.55 } },
    fills,
  );
  map.addLayer(
    {
      id: 'twin-an-spots-line',
      type: 'line',
      source: RESULTS,
      minzoom: 13,
      filter: ['==', ['get', 'layer'], 'white_spots'],
      paint: { 'line-color': '#8e0152', 'line-width': 1 },
    },
    over,
  );
  map.addLayer(
    {
      id: 'twin-an-cams',
      type: 'circle',
      source: CAMS,
      paint: {
        'circle-radius': ['interpolate', ['linear'], ['zoom'], 11, 4, 16, 9],
        'circle-color': ['match', ['get', 'what'], 'proposed', PROPOSED_COLOUR, ADDED_COLOUR],
        'circle-stroke-color': '#ffffff',
        'circle-stroke-width': 2,
      },
    },
    over,
  );
  map.addLayer(
    {
      id: 'twin-an-cams-rank',
      type: 'symbol',
      source: CAMS,
      minzoom: 13,
      filter: ['==', ['get', 'what'], 'proposed'],
      layout: { 'text-field': ['to-string', ['get', 'rank']], 'text-font': [REGULAR], 'text-size': 11, 'text-offset': [0, -1.4] },
      paint: { 'text-color': '#7f3b08', 'text-halo-color': '#ffffff', 'text-halo-width': 1.4 },
    },
    over,
  );
}

/** Show a coverage run, suggested and what-if cameras in `state` on the map. */
export function drawCoverage(map, state) {
  if (!map?.getSource(RESULTS)) return;
  map.getSource(RESULTS).setData(state.results || EMPTY);
  const proposed = state.placement?.proposed.features || [];
  const added = state.whatIf.map((c, i) => ({
    type: 'Feature',
    geometry: { type: 'Point', coordinates: [c.lon, c.lat] },
    properties: { ...c, what: 'added', n: i + 1 },
  }));
  map.getSource(CAMS).setData({
    type: 'FeatureCollection',
    features: [...added, ...proposed.map((f) => ({ ...f, properties: { ...f.properties, what: 'proposed' } }))],
  });
  for (const [layer, ids] of Object.entries({ coverage: ['twin-an-cov-fill'], white_spots: ['twin-an-spots-fill', 'twin-an-spots-line'] })) {
    for (const id of ids) map.setLayoutProperty(id, 'visibility', state.show[layer] ? 'visible' : 'none');
  }
}

export function openSpot(ctx, f) {
  const p = f.properties;
  openCustomCard(ctx.app, {
    kind: 'white-spot',
    id: p.rank,
    eyebrow: () => t('cov.layer.white_spots'),
    title: () => t('cov.spot', { rank: p.rank }),
    body: () =>
      h(
        'dl',
        { class: 'props' },
        h('dt', { text: t('cov.spot.area') }),
        h('dd', { text: `${formatNumber(p.area_m2, 0)} ${t('unit.m2')}` }),
        p.street ? [h('dt', { text: t('cov.spot.street') }), h('dd', { text: `${p.street} (${formatNumber(p.street_distance_m, 0)} ${t('unit.m')})` })] : null,
        p.district ? [h('dt', { text: t('dash.choose') }), h('dd', { text: ctx.app.districtName(p.district) })] : null,
        h('dt', { text: t('cov.spot.weight') }),
        h('dd', { text: formatNumber(p.weight, 0) }),
      ),
    geometry: f.geometry,
    focus: false,
  });
}

export function openCamera(ctx, f, focus = false) {
  const p = f.properties;
  const proposed = p.what === 'proposed';
  openCustomCard(ctx.app, {
    kind: proposed ? 'proposed-camera' : 'added-camera',
    id: p.rank ?? p.n,
    eyebrow: () => (proposed ? t('cov.proposed.card') : t('cov.added.card')),
    title: () => (proposed ? t('cov.proposed.n', { rank: p.rank }) : t('cov.added.n', { n: p.n })),
    body: () =>
      h(
        'dl',
        { class: 'props' },
        p.street ? [h('dt', { text: t('cov.spot.street') }), h('dd', { text: p.street })] : null,
        proposed ? [h('dt', { text: t('cov.gain') }), h('dd', { text: `${formatNumber(p.gain_m2, 0)} ${t('unit.m2')}` })] : null,
        h('dt', { text: t('cov.cam.kind') }),
        h('dd', { text: t(`cov.cam.${p.kind}`) }),
        h('dt', { text: t('cov.cam.heading') }),
        h('dd', { text: `${formatNumber(p.heading_deg, 0)}°` }),
        h('dt', { text: t('cov.cam.fov') }),
        h('dd', { text: `${formatNumber(p.fov_deg, 0)}°` }),
        h('dt', { text: t('cov.cam.range') }),
        h('dd', { text: `${formatNumber(p.range_m, 0)} ${t('unit.m')}` }),
      ),
    geometry: f.geometry,
    focus,
  });
}
