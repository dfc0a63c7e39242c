// Camera coverage for planners (hidden without a planner key): choose a scope (the city, a
// district, the current view or a drawn polygon), run, see coverage and white spots on the map,
// ask for suggested cameras, add them to a what-if list sent with the next run, and export.
// POST /api/analysis/coverage and /placement; the map draws coverage and white spots from the
// kept result's vector tiles (/api/analysis/results/{id}/{z}/{x}/{y}.mvt).

import { ApiError, getBlob, getJSON, postJSON } from './api.js';
import { errorText, renderInto, statusLine, viewBbox } from './analysis-ui.js';
import { CLICK_LAYERS, addCoverageLayers, drawCoverage, openCamera, openSpot, resultTilesUrl } from './coverage-map.js';
import { placementView, proposedView, resultView } from './coverage-view.js';
import { saveBlob, toCSV } from './download.js';
import { createDrawTool } from './draw.js';
import { t } from './i18n.js';
import { h, keyForm } from './panel.js';

const SCOPES = ['city', 'district', 'view', 'polygon'];
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

export function createCoverage(ctx) {
  const state = {
    scope: 'district',
    district: '',
    camera: { kind: 'fixed', fov_deg: 90, range_m: 100, k: 10 },
    whatIf: [],
    coverage: null,
    previous: null, // the run before of the same area (what a what-if changed)
    placement: null,
    tiles: null, // the XYZ URL of the last coverage run's coverage and white-spot tiles
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
    drawCoverage(ctx.map, state);
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

  /** Show the analysed area: a district or the city fits the map to its boundary, a drawn
   * polygon to itself (the current view stays as it is). At city zoom a district's results
   * were too small to see, and the map stayed where it was (issue 15, item 10). */
  async function fitScope(scope) {
    try {
      if (scope.kind === 'polygon' && scope.polygon) {
        ctx.app.fitGeometry({ coordinates: scope.polygon });
      } else if (scope.kind === 'district') {
        const cql = encodeURIComponent(`name = '${String(scope.district).replace(/'/g, "''")}'`);
        const fc = await getJSON(`/collections/districts/items?limit=1&filter-lang=cql2-text&filter=${cql}`);
        if (fc.features?.[0]) ctx.app.fitGeometry(fc.features[0].geometry);
      } else if (scope.kind === 'city') {
        const fc = await getJSON('/collections/city_boundary/items?limit=1');
        if (fc.features?.[0]) ctx.app.fitGeometry(fc.features[0].geometry);
      }
    } catch {
      /* the result stands without the zoom */
    }
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
      if (!planner()) return stopBusy(); // signed out meanwhile: show nothing
      const sameScope = state.coverage && JSON.stringify(state.coverage.request.scope) === JSON.stringify(scope);
      // the run before, of the same area: the panel shows what the what-if changed
      state.previous = sameScope ? state.coverage : null;
      state.coverage = { ...answer, request: body };
      if (!sameScope) fitScope(scope);
      state.tiles = resultTilesUrl(answer.links);
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
      const placement = await postJSON('/api/analysis/placement', body);
      if (!planner()) return stopBusy();
      state.placement = placement;
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

  const actions = { drawLayers, exportFile, runPlacement, addSuggested, rerender: () => rerender() };

  function rerender() {
    if (!root) return;
    if (!planner()) {
      // Residents and signed-out planners learn the section exists and where the key goes.
      root.removeAttribute('aria-busy');
      return renderInto(root, keyForm(ctx.app, { id: 'an-key', cls: 'staff-key-form', intro: () => t('cov.locked') }));
    }
    root.setAttribute('aria-busy', String(Boolean(state.busy)));
    renderInto(
      root,
      h('p', { class: 'hint', text: t('cov.about') }),
      h('p', { class: 'hint', id: 'cov-hexagons', text: t('cov.hexagons') }),
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
      resultView(ctx, state, actions),
      state.coverage || state.placement ? placementView(ctx, state, actions) : null,
      proposedView(ctx, state, actions),
    );
  }

  return {
    id: 'coverage',
    state,
    hidden: () => false,
    mount(el) {
      root = el;
      rerender();
    },
    rerender,
    relabel: rerender,
    roleChanged() {
      if (planner()) return;
      // Signed out: nothing of a planner's result may stay on the page.
      Object.assign(state, { coverage: null, previous: null, placement: null, tiles: null, whatIf: [], error: null });
      draw.clear();
      drawLayers();
    },
    addLayers(map) {
      addCoverageLayers(map);
      draw.addLayers(map);
      drawLayers();
    },
    clickLayers: () => (planner() ? CLICK_LAYERS : []),
    openFeature(f) {
      if (f.layer.id === 'twin-an-cams') openCamera(ctx, f);
      else openSpot(ctx, f);
    },
  };
}
