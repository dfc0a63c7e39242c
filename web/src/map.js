// The MapLibre map: our own style from /style.json, the app's extra layers (district
// choropleth and hit area, wheelchair-access view, selection outline), visibility and labels.

import * as maplibregl from 'maplibre-gl';
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';
import { transformRequest } from './api.js';
import { REGULAR, SEMIBOLD, fontFaces } from './fonts.js';
import { lang, t } from './i18n.js';
import { ACCESS_COLORS, accessSources, catalogIdOf } from './layers.js';

maplibregl.setWorkerUrl(workerUrl);

const EMPTY = { type: 'FeatureCollection', features: [] };

/**
 * Prepare the served style for this page: labels are drawn from the bundled web font declared
 * in `font-faces` (MapLibre renders them locally), so no font request leaves our origin.
 */
export function prepareStyle(style, on) {
  const out = structuredClone(style);
  if (out.glyphs && !sameOrigin(out.glyphs)) delete out.glyphs;
  if (out.sprite && !sameOrigin(String(out.sprite))) delete out.sprite;
  out['font-faces'] = fontFaces();
  for (const layer of out.layers || []) {
    if (layer.type === 'symbol' && layer.layout?.['text-field']) layer.layout['text-font'] = [REGULAR];
    // Only the layers that are on load tiles from the start; the indicator polygons of every
    // year give way to the app's choropleth.
    const id = catalogIdOf(layer);
    if (id && on) {
      const visible = on.has(id) && id !== 'district_indicators';
      layer.layout = { ...layer.layout, visibility: visible ? 'visible' : 'none' };
    }
  }
  return out;
}

function sameOrigin(url) {
  try {
    return new URL(url.replace(/\{[^}]+\}/g, 'x'), location.origin).origin === location.origin;
  } catch {
    return false;
  }
}

let scaleControl = null;

export function createMap(container, { center, zoom, style }) {
  const map = new maplibregl.Map({
    container,
    style,
    center,
    zoom,
    minZoom: 8,
    maxZoom: 19,
    maxBounds: [
      [75.9, 42.8],
      [78.0, 43.8],
    ],
    attributionControl: false,
    transformRequest,
    cooperativeGestures: false,
    dragRotate: false,
    pitchWithRotate: false,
    fadeDuration: 0,
  });
  map.touchZoomRotate.disableRotation();
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'bottom-right');
  scaleControl = new maplibregl.ScaleControl({ unit: 'metric' });
  map.addControl(scaleControl, 'bottom-left');
  // Compact: an (i) button that opens the sources' credits (OSM ODbL, AirData.kz CC BY-NC …),
  // folded at start so the long line never runs under the side panels.
  map.addControl(new maplibregl.AttributionControl({ compact: true }), 'bottom-right');
  return map;
}

/** The scale bar's units in the interface language. MapLibre reads its UI strings from the
 * map's locale table (the `locale` option); it has no setter, so the table is patched and the
 * scale redrawn (`setUnit` redraws it). */
export function localiseControls(map, units) {
  Object.assign(map._locale, {
    'ScaleControl.Meters': units.m,
    'ScaleControl.Kilometers': units.km,
  });
  scaleControl?.setUnit('metric');
}

/** Return [source, source-layer, minzoom] of the first style layer drawing catalog layer `id`. */
export function sourceOf(map, id) {
  for (const sl of map.getStyle().layers) {
    if (catalogIdOf(sl) === id && sl.source && sl['source-layer']) {
      return { source: sl.source, sourceLayer: sl['source-layer'] };
    }
  }
  return null;
}

function firstLayerOfType(map, types) {
  return map.getStyle().layers.find((l) => types.includes(l.type))?.id;
}

/** Add the app's own layers to a freshly loaded style. */
export function addAppLayers(map, overview, catalog) {
  const districts = sourceOf(map, 'districts');
  const beforeLines = firstLayerOfType(map, ['line', 'symbol', 'circle']);
  if (districts) {
    map.addLayer(
      {
        id: 'twin-choropleth',
        type: 'fill',
        source: districts.source,
        'source-layer': districts.sourceLayer,
        layout: { visibility: 'none' },
        paint: { 'fill-color': '#cccccc', 'fill-opacity': 0.62 },
        metadata: { 'twin:layer': 'district_indicators', 'twin:app': true },
      },
      beforeLines,
    );
    map.addLayer(
      {
        id: 'twin-districts-hit',
        type: 'fill',
        source: districts.source,
        'source-layer': districts.sourceLayer,
        paint: { 'fill-color': '#000000', 'fill-opacity': 0 },
        metadata: { 'twin:app': true },
      },
      beforeLines,
    );
  }
  for (const id of accessSources(catalog)) {
    const src = sourceOf(map, id);
    if (!src) continue;
    map.addLayer({
      id: `twin-access-${id}`,
      type: 'circle',
      source: src.source,
      'source-layer': src.sourceLayer,
      minzoom: 10,
      filter: ['all', ['==', ['geometry-type'], 'Point'], ['has', 'wheelchair']],
      layout: { visibility: 'none' },
      paint: {
        'circle-radius': ['interpolate', ['linear'], ['zoom'], 10, 3, 16, 7],
        'circle-color': [
          'match',
          ['get', 'wheelchair'],
          ...Object.entries(ACCESS_COLORS).flat(),
          ACCESS_COLORS.unknown,
        ],
        'circle-stroke-color': '#ffffff',
        'circle-stroke-width': 1.2,
      },
      metadata: { 'twin:layer': 'accessibility', 'twin:app': true, 'twin:of': id },
    });
  }
  addLabelLayers(map, overview);
  map.addSource('twin-selection', { type: 'geojson', data: EMPTY });
  map.addLayer({
    id: 'twin-selection-fill',
    type: 'fill',
    source: 'twin-selection',
    filter: ['==', ['geometry-type'], 'Polygon'],
    paint: { 'fill-color': '#1f6feb', 'fill-opacity': 0.15 },
  });
  map.addLayer({
    id: 'twin-selection-line',
    type: 'line',
    source: 'twin-selection',
    filter: ['!=', ['geometry-type'], 'Point'],
    paint: { 'line-color': '#1f6feb', 'line-width': 3 },
  });
  map.addLayer({
    id: 'twin-selection-point',
    type: 'circle',
    source: 'twin-selection',
    filter: ['==', ['geometry-type'], 'Point'],
    paint: {
      'circle-radius': 9,
      'circle-color': 'rgba(31,111,235,0.15)',
      'circle-stroke-color': '#1f6feb',
      'circle-stroke-width': 3,
    },
  });
}

const HALO = { 'text-color': '#2b2f36', 'text-halo-color': '#ffffff', 'text-halo-width': 1.4 };

/** Street, river and park names from the tiles; district names from /api/districts. */
function addLabelLayers(map, overview) {
  const lines = [
    ['roads', 14, 12],
    ['waterways', 13, 11],
  ];
  for (const [id, minzoom, size] of lines) {
    const src = sourceOf(map, id);
    if (!src || map.getLayer(`${id}-labels`)) continue;
    map.addLayer({
      id: `${id}-labels`,
      type: 'symbol',
      source: src.source,
      'source-layer': src.sourceLayer,
      minzoom,
      filter: ['has', 'name'],
      layout: {
        'symbol-placement': 'line',
        'text-field': ['get', 'name'],
        'text-font': [REGULAR],
        'text-size': size,
        'text-max-angle': 30,
      },
      paint: id === 'waterways' ? { ...HALO, 'text-color': '#2f5f8f' } : HALO,
      metadata: { 'twin:layer': id, 'twin:part': 'labels', 'twin:app': true },
    });
  }
  const parks = sourceOf(map, 'parks');
  if (parks && !map.getLayer('parks-labels')) {
    map.addLayer({
      id: 'parks-labels',
      type: 'symbol',
      source: parks.source,
      'source-layer': parks.sourceLayer,
      minzoom: 15,
      filter: ['has', 'name'],
      layout: { 'text-field': ['get', 'name'], 'text-font': [REGULAR], 'text-size': 12, 'text-max-width': 8 },
      paint: { ...HALO, 'text-color': '#2e6b34' },
      metadata: { 'twin:layer': 'parks', 'twin:part': 'labels', 'twin:app': true },
    });
  }
  const points = (overview?.districts || [])
    .filter((d) => d.label)
    .map((d) => ({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: d.label },
      properties: { name: d.name, name_ru: d.name_ru, name_kk: d.name_kk },
    }));
  if (points.length) {
    map.addSource('twin-district-labels', { type: 'geojson', data: { type: 'FeatureCollection', features: points } });
    map.addLayer({
      id: 'districts-labels',
      type: 'symbol',
      source: 'twin-district-labels',
      maxzoom: 14,
      layout: {
        'text-field': ['get', 'name_ru'],
        'text-font': [SEMIBOLD],
        'text-size': ['interpolate', ['linear'], ['zoom'], 9, 12, 13, 16],
        'text-max-width': 9,
        'text-transform': 'uppercase',
        'text-letter-spacing': 0.06,
      },
      paint: { 'text-color': '#4a3d78', 'text-halo-color': 'rgba(255,255,255,0.9)', 'text-halo-width': 1.6 },
      metadata: { 'twin:layer': 'districts', 'twin:part': 'labels', 'twin:app': true },
    });
  }
}

export function setSelection(map, geometry) {
  const src = map.getSource('twin-selection');
  if (!src) return;
  src.setData(geometry ? { type: 'Feature', geometry, properties: {} } : EMPTY);
}

export function setVisible(map, styleLayerIds, on) {
  for (const id of styleLayerIds) {
    if (map.getLayer(id)) map.setLayoutProperty(id, 'visibility', on ? 'visible' : 'none');
  }
}

/** District names follow the interface language; other labels are as mapped. */
export function localiseLabels(map) {
  const field = { ru: 'name_ru', kk: 'name_kk', en: 'name' }[lang()];
  for (const sl of map.getStyle().layers) {
    if (sl.type !== 'symbol' || catalogIdOf(sl) !== 'districts') continue;
    map.setLayoutProperty(sl.id, 'text-field', ['coalesce', ['get', field], ['get', 'name']]);
  }
  const canvas = map.getCanvas();
  canvas.setAttribute('aria-label', t('map.aria'));
  canvas.setAttribute('role', 'region');
}
