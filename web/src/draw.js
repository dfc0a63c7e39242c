// A small polygon tool for the coverage scope: each click on the map adds a vertex; "Add the
// map centre" does the same from the keyboard (pan with the arrow keys, then press it); Undo
// drops the last one; Finish closes the ring (3 vertices at least).

import { overBefore } from './analysis-ui.js';
import { t } from './i18n.js';
import { h } from './panel.js';

const SOURCE = 'twin-an-draw';
const EMPTY = { type: 'FeatureCollection', features: [] };

export function createDrawTool(ctx, { onChange }) {
  const state = { vertices: [], done: false };

  function geojson() {
    const v = state.vertices;
    const features = v.map((c) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: c }, properties: {} }));
    if (v.length >= 3) {
      features.push({ type: 'Feature', geometry: { type: 'Polygon', coordinates: [[...v, v[0]]] }, properties: {} });
    } else if (v.length === 2) {
      features.push({ type: 'Feature', geometry: { type: 'LineString', coordinates: v }, properties: {} });
    }
    return { type: 'FeatureCollection', features };
  }

  function draw() {
    ctx.map?.getSource(SOURCE)?.setData(state.vertices.length ? geojson() : EMPTY);
  }

  function changed() {
    draw();
    ctx.rerenderTool();
    onChange();
  }

  function add(lngLat) {
    if (state.done) {
      state.vertices = [];
      state.done = false;
    }
    state.vertices.push([Number(lngLat.lng.toFixed(6)), Number(lngLat.lat.toFixed(6))]);
    changed();
  }

  const tool = {
    name: 'draw',
    title: () => t('draw.title'),
    hint: () => t('draw.hint', { n: state.vertices.length }),
    exitLabel: () => t('draw.cancel'),
    controls: () => [
      h('button', { id: 'draw-centre', type: 'button', class: 'btn btn-small', text: t('draw.centre'), onclick: () => add(ctx.map.getCenter()) }),
      h('button', {
        id: 'draw-undo',
        type: 'button',
        class: 'btn btn-small',
        text: t('draw.undo'),
        disabled: !state.vertices.length,
        onclick: () => {
          state.vertices.pop();
          changed();
        },
      }),
      h('button', {
        id: 'draw-finish',
        type: 'button',
        class: 'btn btn-small btn-primary',
        text: t('draw.finish'),
        disabled: state.vertices.length < 3,
        onclick: () => {
          state.done = true;
          ctx.setTool(null);
          changed();
        },
      }),
    ],
    click: (lngLat) => add(lngLat),
    exit: () => {
      // Leaving without finishing drops an open ring.
      if (!state.done) state.vertices = [];
      draw();
      onChange();
    },
  };

  return {
    state,
    tool,
    start() {
      state.vertices = [];
      state.done = false;
      draw();
      ctx.setTool(tool);
    },
    clear() {
      state.vertices = [];
      state.done = false;
      if (ctx.tool() === tool) ctx.setTool(null);
      draw();
      onChange();
    },
    /** The finished polygon as GeoJSON, or null. */
    polygon() {
      const v = state.vertices;
      return state.done && v.length >= 3 ? { type: 'Polygon', coordinates: [[...v, v[0]]] } : null;
    },
    addLayers(map) {
      map.addSource(SOURCE, { type: 'geojson', data: EMPTY });
      const before = overBefore(map);
      map.addLayer(
        { id: 'twin-an-draw-fill', type: 'fill', source: SOURCE, filter: ['==', ['geometry-type'], 'Polygon'], paint: { 'fill-color': '#0b5cd5', 'fill-opacity': 0.12 } },
        before,
      );
      map.addLayer(
        {
          id: 'twin-an-draw-line',
          type: 'line',
          source: SOURCE,
          filter: ['!=', ['geometry-type'], 'Point'],
          paint: { 'line-color': '#0b5cd5', 'line-width': 2.5, 'line-dasharray': [2, 1] },
        },
        before,
      );
      map.addLayer(
        {
          id: 'twin-an-draw-vertex',
          type: 'circle',
          source: SOURCE,
          filter: ['==', ['geometry-type'], 'Point'],
          paint: { 'circle-radius': 5, 'circle-color': '#ffffff', 'circle-stroke-color': '#0b5cd5', 'circle-stroke-width': 2.5 },
        },
        before,
      );
      draw();
    },
  };
}
