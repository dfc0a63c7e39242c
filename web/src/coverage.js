// Camera coverage for planners (hidden without a planner key): choose a scope (the city, a
// district, the current view or a drawn polygon), run, see coverage and white spots on the map,
// ask for suggested cameras, add them to a what-if list sent with the next run, and export.
// POST /api/analysis/coverage and /placement; the map layers come from /api/analysis/results.

import { ApiError, getBlob, getJSON, postJSON } from './api.js';
import { errorText, fillsBefore, overBefore, renderInto, statusLine, viewBbox } from './analysis-ui.js';
import { openCustomCard } from './card.js';
import { saveBlob, toCSV } from './download.js';
import { createDrawTool } from './draw.js';
import { REGULAR } from './fonts.js';
import { formatNumber } from './format.js';
import { t } from './i18n.js';
import { h } from './panel.js';

const SCOPES = ['city', 'district', 'view', 'polygon'];
const RESULTS = 'twin-an-cov';
const CAMS = 'twin-an-cams';
const EMPTY = { type: 'FeatureCollection', features: [] };
export const COVERAGE_COLOUR = '#1f78b4';
export const SPOT_COLOUR = '#e7298a';
export const PROPOSED_COLOUR = '#ff7f00';
export const ADDED_COLOUR = '#6a3d9a';
const CSV_COLUMNS = [
  'district',
  'street_pct',
  'area_pct',
  'weighted_pct',
  'street_length_m',
  'street_covered_m',
  'area_m2',
  'covered_m2',
  'cameras_working',
  'cameras_broken',
  'cameras_planned',
];

const pct = (v) => `${formatNumber(v, 1)}%`;

export function createCoverage(ctx) {
  const state = {
    scope: 'district',
    district: '',
    camera: { kind: 'fixed', fov_deg: 90, range_m: 100, k: 10 },
    whatIf: [],
    coverage: null,
    placement: null,
    results: null,
    show: { coverage: true, white_spots: true },
    busy: null,
    error: null,
  };
  let root = null;
  let clock = 0;
  const draw = createDrawTool(ctx, { onChange: () => rerender() });

  const planner = () => ['planner', 'admin'].includes(ctx.app.role);
  const districts = () => ctx.app.overview?.districts || [];

  function scopeBody() {
    switch (state.scope) {
      case 'district':
        return { kind: 'district', district: state.district || districts()[0]?.name };
      case 'view':
        return { kind: 'bbox', bbox: viewBbox(ctx.map).map((v) => Number(v.toFixed(6))) };
      case 'polygon':
        return { kind: 'polygon', polygon: draw.polygon() };
      default:
        return { kind: 'city' };
    }
  }

  function cameraTemplate() {
    const c = state.camera;
    return { kind: c.kind, fov_deg: c.kind === 'ptz' ? 360 : c.fov_deg, range_m: c.range_m, mount_height_m: 6 };
  }

  function drawLayers() {
    const map = ctx.map;
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

  function startBusy(kind) {
    state.busy = kind;
    state.error = null;
    const started = performance.now();
    clearInterval(clock);
    clock = setInterval(() => {
      const el = document.getElementById('cov-elapsed');
      if (el) el.textContent = t('cov.elapsed', { s: Math.round((performance.now() - started) / 1000) });
    }, 1000);
    rerender();
  }

  function stopBusy(error = null) {
    clearInterval(clock);
    state.busy = null;
    state.error = error;
    rerender();
  }

  async function runCoverage() {
    if (state.busy) return;
    const scope = scopeBody();
    if (scope.kind === 'polygon' && !scope.polygon) {
      state.error = t('cov.draw.first');
      return rerender();
    }
    startBusy('coverage');
    try {
      const body = { scope, cameras: { add: state.whatIf } };
      const answer = await postJSON('/api/analysis/coverage', body);
      const results = await getJSON(`${answer.links.results}?layer=coverage&layer=white_spots`);
      state.coverage = { ...answer, request: body };
      state.results = results;
      state.placement = null;
      drawLayers();
      stopBusy();
    } catch (e) {
      stopBusy(errorText(e));
    }
  }

  async function runPlacement() {
    if (state.busy) return;
    const scope = scopeBody();
    if (scope.kind === 'polygon' && !scope.polygon) {
      state.error = t('cov.draw.first');
      return rerender();
    }
    startBusy('placement');
    try {
      const body = { scope, cameras: { add: state.whatIf }, k: state.camera.k, camera: cameraTemplate() };
      state.placement = await postJSON('/api/analysis/placement', body);
      drawLayers();
      stopBusy();
    } catch (e) {
      stopBusy(errorText(e));
    }
  }

  /** Keep the suggested cameras as a what-if (working, so they count) and run coverage again. */
  function addSuggested() {
    const feats = state.placement?.proposed.features || [];
    for (const f of feats) {
      const p = f.properties;
      const [lon, lat] = f.geometry.coordinates;
      state.whatIf.push({
        lon: Number(lon.toFixed(7)),
        lat: Number(lat.toFixed(7)),
        kind: p.kind,
        status: 'working',
        heading_deg: p.heading_deg,
        fov_deg: p.fov_deg,
        range_m: p.range_m,
        mount_height_m: p.mount_height_m,
      });
    }
    state.placement = null;
    drawLayers();
    runCoverage();
  }

  function clearWhatIf() {
    state.whatIf = [];
    drawLayers();
    if (state.coverage) runCoverage();
    else rerender();
  }

  async function exportFile(kind) {
    const cov = state.coverage;
    if (!cov) return;
    const name = `coverage-${String(cov.scope || 'scope').replace(/[^\p{L}\p{N}_-]+/gu, '_')}`;
    try {
      if (kind === 'csv') {
        saveBlob(new Blob([toCSV(cov.districts, CSV_COLUMNS)], { type: 'text/csv;charset=utf-8' }), `${name}.csv`);
      } else if (kind === 'geojson') {
        const blob = await getBlob(cov.links.results);
        saveBlob(new Blob([blob], { type: 'application/geo+json' }), `${name}.geojson`);
      } else {
        saveBlob(await getBlob(cov.links.geotiff), `${name}.tif`);
      }
    } catch (e) {
      state.error = e instanceof ApiError && e.status === 404 ? t('cov.expired') : errorText(e);
      rerender();
    }
  }

  function scopeControls() {
    const radios = SCOPES.map((s) =>
      h(
        'label',
        { class: 'radio' },
        h('input', {
          type: 'radio',
          name: 'cov-scope',
          id: `cov-scope-${s}`,
          value: s,
          checked: state.scope === s,
          onchange: () => {
            state.scope = s;
            state.error = null;
            rerender();
          },
        }),
        h('span', { text: t(`cov.scope.${s}`) }),
      ),
    );
    let extra = null;
    if (state.scope === 'district') {
      extra = [
        h('label', { for: 'cov-district', text: t('dash.choose') }),
        h(
          'select',
          { id: 'cov-district', onchange: (e) => (state.district = e.target.value) },
          districts().map((d) => h('option', { value: d.name, selected: d.name === (state.district || districts()[0]?.name), text: ctx.app.districtName(d.name) })),
        ),
      ];
    } else if (state.scope === 'polygon') {
      const n = draw.state.vertices.length;
      extra = h(
        'div',
        { class: 'inline' },
        h('button', {
          id: 'cov-draw',
          type: 'button',
          class: 'btn btn-small',
          'aria-pressed': String(ctx.tool() === draw.tool),
          text: draw.polygon() ? t('draw.again') : t('draw.start'),
          onclick: () => draw.start(),
        }),
        n ? h('button', { id: 'cov-draw-clear', type: 'button', class: 'btn btn-small', text: t('draw.clear'), onclick: () => draw.clear() }) : null,
        h('span', { class: 'hint', text: draw.polygon() ? t('draw.ready', { n }) : '' }),
      );
    } else if (state.scope === 'view') {
      extra = h('p', { class: 'hint', text: t('cov.scope.view.hint') });
    }
    return h('fieldset', { class: 'scope' }, h('legend', { text: t('cov.scope') }), h('div', { class: 'radios' }, radios), extra);
  }

  function scopeLabel(scope) {
    if (scope.kind === 'district') return ctx.app.districtName(scope.district);
    return t(`cov.scope.${scope.kind === 'bbox' ? 'view' : scope.kind}`).toLowerCase();
  }

  function summary() {
    const cov = state.coverage;
    if (!cov) return null;
    const s = cov.summary;
    return h(
      'section',
      { class: 'cov-result', 'aria-labelledby': 'cov-result-title' },
      h('h4', { id: 'cov-result-title', text: t('cov.result', { scope: scopeLabel(cov.request.scope) }) }),
      h(
        'p',
        { class: 'big-figure' },
        h('strong', { id: 'cov-street', 'data-value': String(s.street_pct), text: pct(s.street_pct) }),
        h('span', { text: ` ${t('cov.street_pct')}` }),
      ),
      h(
        'dl',
        { class: 'props' },
        h('dt', { text: t('cov.area_pct') }),
        h('dd', { id: 'cov-area', 'data-value': String(s.area_pct), text: pct(s.area_pct) }),
        h('dt', { text: t('cov.weighted_pct') }),
        h('dd', { id: 'cov-weighted', 'data-value': String(s.weighted_pct), text: pct(s.weighted_pct) }),
        h('dt', { text: t('cov.cameras') }),
        h('dd', { text: t('cov.cameras.n', { n: formatNumber(s.cameras, 0), seeing: formatNumber(s.cameras_covering, 0) }) }),
        h('dt', { text: t('cov.spots') }),
        h('dd', { id: 'cov-spots', text: formatNumber(cov.white_spots.total ?? cov.white_spots.features.length, 0) }),
      ),
      cov.districts.length > 1 ? districtTable(cov.districts) : null,
      h(
        'div',
        { class: 'toggles' },
        ['coverage', 'white_spots'].map((layer) =>
          h(
            'label',
            { class: 'check' },
            h('input', {
              type: 'checkbox',
              id: `cov-show-${layer}`,
              checked: state.show[layer],
              onchange: (e) => {
                state.show[layer] = e.target.checked;
                drawLayers();
              },
            }),
            h('span', { class: 'swatch swatch-fill', style: `background:${layer === 'coverage' ? COVERAGE_COLOUR : SPOT_COLOUR}`, 'aria-hidden': 'true' }),
            h('span', { text: t(`cov.layer.${layer}`) }),
          ),
        ),
      ),
      h(
        'div',
        { class: 'inline wrap', role: 'group', 'aria-label': t('cov.export') },
        h('span', { class: 'hint', text: `${t('cov.export')}:` }),
        ['geotiff', 'geojson', 'csv'].map((k) =>
          h('button', { id: `cov-export-${k}`, type: 'button', class: 'btn btn-small', text: t(`cov.export.${k}`), onclick: () => exportFile(k) }),
        ),
      ),
    );
  }

  function districtTable(rows) {
    return h(
      'table',
      { class: 'figures', id: 'cov-districts' },
      h('caption', { text: t('cov.by_district') }),
      h(
        'thead',
        {},
        h('tr', {}, h('th', { scope: 'col', text: t('dash.choose') }), ['street_pct', 'area_pct', 'weighted_pct'].map((k) => h('th', { scope: 'col', text: t(`cov.col.${k}`) }))),
      ),
      h(
        'tbody',
        {},
        rows.map((r) =>
          h(
            'tr',
            { 'data-district': r.district },
            h('th', { scope: 'row', text: ctx.app.districtName(r.district) }),
            ['street_pct', 'area_pct', 'weighted_pct'].map((k) => h('td', { text: pct(r[k]) })),
          ),
        ),
      ),
    );
  }

  function placementControls() {
    const c = state.camera;
    const num = (id, key, min, max, step = 1) =>
      h('input', {
        id,
        type: 'number',
        min: String(min),
        max: String(max),
        step: String(step),
        value: String(c[key]),
        inputmode: 'numeric',
        onchange: (e) => {
          const v = Number(e.target.value);
          if (Number.isFinite(v)) c[key] = Math.min(Math.max(v, min), max);
          e.target.value = String(c[key]);
        },
      });
    return h(
      'fieldset',
      { class: 'placement' },
      h('legend', { text: t('cov.suggest.title') }),
      h(
        'div',
        { class: 'field-grid' },
        h('label', { for: 'cov-k', text: t('cov.k') }),
        num('cov-k', 'k', 1, 500),
        h('label', { for: 'cov-cam-kind', text: t('cov.cam.kind') }),
        h(
          'select',
          {
            id: 'cov-cam-kind',
            onchange: (e) => {
              c.kind = e.target.value;
              rerender();
            },
          },
          ['fixed', 'ptz'].map((k) => h('option', { value: k, selected: c.kind === k, text: t(`cov.cam.${k}`) })),
        ),
        c.kind === 'fixed' ? [h('label', { for: 'cov-fov', text: t('cov.cam.fov') }), num('cov-fov', 'fov_deg', 1, 360)] : null,
        h('label', { for: 'cov-range', text: t('cov.cam.range') }),
        num('cov-range', 'range_m', 10, 1000, 10),
      ),
      h('button', { id: 'cov-suggest', type: 'button', class: 'btn btn-small', disabled: Boolean(state.busy), text: t('cov.suggest'), onclick: runPlacement }),
    );
  }

  function proposedList() {
    const pl = state.placement;
    if (!pl) return null;
    const total = pl.before.weight || 1;
    return h(
      'section',
      { class: 'cov-proposed', 'aria-labelledby': 'cov-proposed-title' },
      h('h4', { id: 'cov-proposed-title', text: t('cov.proposed', { n: pl.proposed.features.length }) }),
      h(
        'p',
        { id: 'cov-before-after', text: t('cov.before_after', { before: pct(pl.before.weighted_pct), after: pct(pl.after.weighted_pct), sb: pct(pl.before.street_pct), sa: pct(pl.after.street_pct) }) },
      ),
      h(
        'ol',
        { class: 'ranked', id: 'cov-proposed-list' },
        pl.proposed.features.map((f) => {
          const p = f.properties;
          return h(
            'li',
            { 'data-rank': String(p.rank) },
            h('button', {
              type: 'button',
              class: 'link-button',
              text: t('cov.proposed.item', {
                rank: p.rank,
                street: p.street || t('card.unnamed'),
                m2: formatNumber(p.gain_m2, 0),
                pp: formatNumber((100 * p.gain_weight) / total, 2),
              }),
              onclick: () => {
                ctx.map.jumpTo({ center: f.geometry.coordinates, zoom: Math.max(ctx.map.getZoom(), 16) });
                openCamera(f, true);
              },
            }),
          );
        }),
      ),
      h('button', { id: 'cov-add', type: 'button', class: 'btn btn-small btn-primary', disabled: Boolean(state.busy), text: t('cov.add'), onclick: addSuggested }),
    );
  }

  function rerender() {
    if (!root) return;
    if (!planner()) return root.replaceChildren();
    root.setAttribute('aria-busy', String(Boolean(state.busy)));
    renderInto(
      root,
      h('p', { class: 'hint', text: t('cov.about') }),
      scopeControls(),
      h(
        'div',
        { class: 'inline wrap' },
        h('button', { id: 'cov-run', type: 'button', class: 'btn btn-small btn-primary', disabled: Boolean(state.busy), text: t('cov.run'), onclick: runCoverage }),
      ),
      state.whatIf.length
        ? h(
            'p',
            { class: 'whatif', id: 'cov-whatif' },
            h('span', { text: t('cov.whatif', { n: state.whatIf.length }) }),
            ' ',
            h('button', { id: 'cov-whatif-clear', type: 'button', class: 'btn btn-small', text: t('cov.whatif.clear'), onclick: clearWhatIf }),
          )
        : null,
      state.busy || state.error
        ? h(
            'div',
            { class: 'status-block' },
            statusLine('cov-status', { busy: state.busy ? t(`cov.busy.${state.busy}`) : false, error: state.error }),
            state.busy ? h('p', { class: 'hint', id: 'cov-elapsed', 'aria-hidden': 'true' }) : null,
          )
        : null,
      summary(),
      state.coverage || state.placement ? placementControls() : null,
      proposedList(),
    );
  }

  function openSpot(f) {
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

  function openCamera(f, focus = false) {
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

  return {
    id: 'coverage',
    state,
    hidden: () => !planner(),
    mount(el) {
      root = el;
      rerender();
    },
    rerender,
    relabel: rerender,
    roleChanged() {
      if (planner()) return;
      // Signed out: nothing of a planner's result may stay on the page.
      Object.assign(state, { coverage: null, placement: null, results: null, whatIf: [], error: null });
      draw.clear();
      drawLayers();
    },
    addLayers(map) {
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
      draw.addLayers(map);
      drawLayers();
    },
    clickLayers: () => (planner() ? ['twin-an-cams', 'twin-an-spots-fill'] : []),
    openFeature(f) {
      if (f.layer.id === 'twin-an-cams') openCamera(f);
      else openSpot(f);
    },
  };
}
