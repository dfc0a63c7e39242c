// The coverage results on the map: coverage and white spots as vector tiles of the kept result
// (/api/analysis/results/{id}/{z}/{x}/{y}.mvt, drawn by the server), the suggested and what-if
// cameras (a few points, GeoJSON), and the cards a click on them opens.

import { fillsBefore, overBefore } from './analysis-ui.js';
import { openCustomCard } from './card.js';
import { REGULAR } from './fonts.js';
import { formatNumber } from './format.js';
import { t } from './i18n.js';
import { h } from './panel.js';

const RESULTS = 'twin-an-cov';
const CAMS = 'twin-an-cams';
const EMPTY = { type: 'FeatureCollection', features: [] };
// Past this zoom the result's tiles are overzoomed (the server draws them unsimplified there).
const RESULT_MAXZOOM = 16;
const RESULT_LAYERS = {
  coverage: ['twin-an-cov-fill', 'twin-an-cov-line'],
  white_spots: ['twin-an-spots-fill', 'twin-an-spots-line'],
};
// Below this zoom coverage and white spots (street-wide strips, tens of metres) are thinner
// than a pixel and their fills vanish: outlines a pixel wide draw them at city zoom.
const OUTLINE_BELOW = 14;
export const COVERAGE_COLOUR = '#1f78b4';
export const SPOT_COLOUR = '#e7298a';
export const PROPOSED_COLOUR = '#ff7f00';
export const ADDED_COLOUR = '#6a3d9a';
export const CLICK_LAYERS = ['twin-an-cams', 'twin-an-spots-fill'];

/**
 * The XYZ URL of a kept result's coverage and white-spot tiles, from the answer's `links`:
 * absolute, so that the map's transformRequest sends the planner key with it (it does so for
 * our own origin only); braces kept literal (new URL() would escape them).
 */
export function resultTilesUrl(links) {
  return `${location.origin}${links.tiles}?layer=coverage&layer=white_spots`;
}

export function addCoverageLayers(map) {
  map.addSource(CAMS, { type: 'geojson', data: EMPTY });
  const over = overBefore(map);
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

/** Point the result layers at `url` (adding the vector source and its layers on first use). */
function showResultTiles(map, url) {
  const source = map.getSource(RESULTS);
  if (source) {
    if (source.tiles?.[0] !== url) source.setTiles([url]);
    return;
  }
  map.addSource(RESULTS, { type: 'vector', tiles: [url], minzoom: 0, maxzoom: RESULT_MAXZOOM });
  const fills = fillsBefore(map);
  const over = map.getLayer(CAMS) ? CAMS : overBefore(map); // spot outlines under the cameras
  map.addLayer(
    { id: 'twin-an-cov-fill', type: 'fill', source: RESULTS, 'source-layer': 'coverage', paint: { 'fill-color': COVERAGE_COLOUR, 'fill-opacity': 0.32 } },
    fills,
  );
  map.addLayer(
    { id: 'twin-an-spots-fill', type: 'fill', source: RESULTS, 'source-layer': 'white_spots', paint: { 'fill-color': SPOT_COLOUR, 'fill-opacity': 0.55 } },
    fills,
  );
  map.addLayer(
    {
      id: 'twin-an-cov-line',
      type: 'line',
      source: RESULTS,
      'source-layer': 'coverage',
      maxzoom: OUTLINE_BELOW,
      paint: { 'line-color': COVERAGE_COLOUR, 'line-width': 1, 'line-opacity': 0.7 },
    },
    over,
  );
  map.addLayer(
    {
      id: 'twin-an-spots-line',
      type: 'line',
      source: RESULTS,
      'source-layer': 'white_spots',
      paint: { 'line-color': '#8e0152', 'line-width': ['interpolate', ['linear'], ['zoom'], 10, 1.5, OUTLINE_BELOW, 1] },
    },
    over,
  );
}

/** Take the result layers and their tiles off the map (signed out, or nothing to show). */
function hideResultTiles(map) {
  for (const ids of Object.values(RESULT_LAYERS)) for (const id of ids) if (map.getLayer(id)) map.removeLayer(id);
  if (map.getSource(RESULTS)) map.removeSource(RESULTS);
}

/** Show a coverage run, suggested and what-if cameras in `state` on the map. */
export function drawCoverage(map, state) {
  if (!map?.getSource(CAMS)) return;
  if (state.tiles) {
    showResultTiles(map, state.tiles);
    for (const [layer, ids] of Object.entries(RESULT_LAYERS)) {
      for (const id of ids) map.setLayoutProperty(id, 'visibility', state.show[layer] ? 'visible' : 'none');
    }
  } else {
    hideResultTiles(map);
  }
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
