// The coverage section's result views: the figures of a run, the suggestion form and the
// suggested cameras. Pure rendering; the section (coverage.js) passes its state and actions.

import { COVERAGE_COLOUR, SPOT_COLOUR, openCamera } from './coverage-map.js';
import { formatNumber } from './format.js';
import { t } from './i18n.js';
import { h } from './panel.js';

const pct = (v) => `${formatNumber(v, 1)}%`;

function scopeLabel(ctx, scope) {
  if (scope.kind === 'district') return ctx.app.districtName(scope.district);
  return t(`cov.scope.${scope.kind === 'bbox' ? 'view' : scope.kind}`).toLowerCase();
}

/** The result of a coverage run: figures, districts, layer switches and exports. */
export function resultView(ctx, state, actions) {
  const cov = state.coverage;
  if (!cov) return null;
  const s = cov.summary;
  return h(
    'section',
    { class: 'cov-result', 'aria-labelledby': 'cov-result-title' },
    h('h4', { id: 'cov-result-title', text: t('cov.result', { scope: scopeLabel(ctx, cov.request.scope) }) }),
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
      ...cameraRows(cov),
      h('dt', { text: t('cov.spots') }),
      h('dd', { id: 'cov-spots', 'data-value': String(spotCount(cov)), text: spotText(cov) }),
    ),
    spotsChange(state),
    cov.districts.length > 1 ? districtTable(ctx, cov.districts) : null,
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
              actions.drawLayers();
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
        h('button', { id: `cov-export-${k}`, type: 'button', class: 'btn btn-small', text: t(`cov.export.${k}`), onclick: () => actions.exportFile(k) }),
      ),
    ),
  );
}

/** Uncovered street space of a run in m² (the street area less what the cameras see). */
function uncovered(cov) {
  return Math.max(0, cov.summary.area_m2 - cov.summary.covered_m2);
}

function spotCount(cov) {
  return cov.white_spots.total ?? cov.white_spots.features.length;
}

function spotText(cov) {
  return t('cov.spots.n', { n: formatNumber(spotCount(cov), 0), km2: formatNumber(uncovered(cov) / 1e6, 2) });
}

/**
 * What a what-if run changed in the white spots. Adding cameras can raise their number: a
 * white spot is one connected uncovered piece, and a new camera's view cut across a long one
 * leaves a piece on either side. Measured on Almaly with 10 suggested cameras: 756 → 762 spots
 * (4 spots cut into 11 pieces, 1 covered whole) while the uncovered area fell from 1.740 to
 * 1.691 km² (issue 15, item 10: "793 → 805" without a word why).
 */
function spotsChange(state) {
  const [was, now] = [state.previous, state.coverage];
  if (!was || !now) return null;
  const more = spotCount(now) > spotCount(was);
  return h(
    'p',
    { class: 'hint', id: 'cov-spots-change', 'data-more': String(more) },
    t('cov.spots.was', { text: spotText(was) }),
    more && uncovered(now) <= uncovered(was) ? ` ${t('cov.spots.split')}` : '',
  );
}

/**
 * The cameras of a run, said apart: the ones standing in the area by status (what the CSV's
 * per-district columns count) and all the run takes into account, which includes the cameras
 * in a 1.1 km band around the area whose view may reach inside ("Камеры 1 598" beside the
 * CSV's 781 for Almaly read as a contradiction: issue 15, item 10).
 */
function cameraRows(cov) {
  const sum = (k) => cov.districts.reduce((a, r) => a + (r[k] ?? 0), 0);
  const [working, broken, planned] = ['cameras_working', 'cameras_broken', 'cameras_planned'].map(sum);
  const s = cov.summary;
  return [
    h('dt', { text: t('cov.cameras.inside') }),
    h('dd', {
      id: 'cov-cameras-inside',
      'data-value': String(working + broken + planned),
      text: t('cov.cameras.inside.n', {
        n: formatNumber(working + broken + planned, 0),
        working: formatNumber(working, 0),
        broken: formatNumber(broken, 0),
        planned: formatNumber(planned, 0),
      }),
    }),
    h('dt', { text: t('cov.cameras') }),
    h('dd', {
      id: 'cov-cameras-all',
      'data-value': String(s.cameras),
      text: t('cov.cameras.n', { n: formatNumber(s.cameras, 0), seeing: formatNumber(s.cameras_covering, 0) }),
    }),
  ];
}

function districtTable(ctx, rows) {
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

/** The suggestion form: how many cameras of which kind. */
export function placementView(ctx, state, actions) {
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
      oninput: (e) => {
        const v = Number(e.target.value);
        if (e.target.value !== '' && Number.isFinite(v) && v >= min && v <= max) c[key] = v;
      },
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
            actions.rerender();
          },
        },
        ['fixed', 'ptz'].map((k) => h('option', { value: k, selected: c.kind === k, text: t(`cov.cam.${k}`) })),
      ),
      c.kind === 'fixed' ? [h('label', { for: 'cov-fov', text: t('cov.cam.fov') }), num('cov-fov', 'fov_deg', 1, 360)] : null,
      h('label', { for: 'cov-range', text: t('cov.cam.range') }),
      num('cov-range', 'range_m', 10, 1000, 10),
    ),
    h('button', { id: 'cov-suggest', type: 'button', class: 'btn btn-small', disabled: Boolean(state.busy), text: t('cov.suggest'), onclick: actions.runPlacement }),
  );
}

/** The suggested cameras with what each adds, and the button that keeps them. */
export function proposedView(ctx, state, actions) {
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
              openCamera(ctx, f, true);
            },
          }),
        );
      }),
    ),
    h('button', { id: 'cov-add', type: 'button', class: 'btn btn-small btn-primary', disabled: Boolean(state.busy), text: t('cov.add'), onclick: actions.addSuggested }),
  );
}
