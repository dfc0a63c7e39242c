// Site selection for businesses: choose a category, weigh demand, competition and access, see
// the best H3 cells ranked and coloured by score (0–100); a click on one shows why, as a bar of
// each factor's points (they add up to the score) and a sentence built from its figures.
// GET /api/analysis/site/categories once, then /api/analysis/site on every change (as the
// public map asks: no key, no cookie, so a signed-in business's quota is not spent on it).

import { getJSON, publicJSON } from './api.js';
import { errorText, fillsBefore, overBefore, renderInto, ringCentre, statusLine } from './analysis-ui.js';
import { FACTOR_COLOURS, openSiteCard, placeText } from './business-card.js';
import { createMine } from './business-mine.js';
import { createZones } from './business-zones.js';
import { cardKind, closeCard } from './card.js';
import { formatNumber } from './format.js';
import { REGULAR } from './fonts.js';
import { lang, t, title as tr } from './i18n.js';
import { h } from './panel.js';
import { provenanceLine } from './provenance.js';

const SOURCE = 'twin-an-site';
// Existing outlets of the chosen category, from the features API (public, unmetered; at most
// ~130 per category in the bundled data).
const OUTLETS = 'twin-an-site-outlets';
const OUTLET_COLOUR = '#263238';
const EMPTY = { type: 'FeatureCollection', features: [] };
const FACTORS = ['demand', 'competition', 'access'];
// Yellow to deep red (sequential, colour-blind safe): a better site is darker.
const SCORE_RAMP = ['#ffffb2', '#fecc5c', '#fd8d3c', '#f03b20', '#bd0026'];
const TOPS = [10, 20, 50, 100, 250];
const WEIGHT_MAX = 3;

function scoreColour() {
  return ['interpolate', ['linear'], ['get', 'score'], 0, SCORE_RAMP[0], 25, SCORE_RAMP[1], 50, SCORE_RAMP[2], 75, SCORE_RAMP[3], 100, SCORE_RAMP[4]];
}

export function createBusiness(ctx) {
  const state = {
    meta: null,
    category: '',
    weights: null,
    res: 9,
    top: 20,
    district: '',
    data: null,
    busy: false,
    error: null,
  };
  let root = null;
  let controlsRoot = null;
  let resultsRoot = null;
  let controller = null;
  let timer = 0;
  let metaLoading = null;

  const zones = createZones(ctx, {
    category: () => state.category,
    weights: () => weightsParam(),
    status: () => renderResults(),
  });
  const mine = createMine(ctx, {
    category: () => state.category,
    weights: () => weightsParam(),
    res: () => state.res,
    status: () => renderResults(),
  });
  const outlets = { category: '', data: null, error: null };
  const defaults = () => state.meta?.weights || { demand: 1, competition: 1, access: 0.5 };
  const categoryOf = (name) => state.meta?.categories.find((c) => c.name === name) || null;

  function loadMeta() {
    metaLoading ??= getJSON('/api/analysis/site/categories')
      .then((meta) => {
        state.meta = meta;
        state.weights = { ...meta.weights, ...(state.weights || {}) };
        rerender();
        return meta;
      })
      .catch((e) => {
        state.error = errorText(e);
        metaLoading = null;
        rerender();
      });
    return metaLoading;
  }

  function draw() {
    const src = ctx.map?.getSource(SOURCE);
    if (!src) return;
    src.setData(state.category && state.data ? state.data : EMPTY);
    ctx.map.getSource(OUTLETS)?.setData(state.category && outlets.data ? outlets.data : EMPTY);
  }

  /** The category's existing outlets, as the catalog layer holds them. */
  async function loadOutlets() {
    const cat = categoryOf(state.category);
    if (!cat || outlets.category === cat.name) return;
    outlets.category = cat.name;
    outlets.data = null;
    const quoted = cat.values.map((v) => `'${String(v).replace(/'/g, "''")}'`).join(',');
    try {
      const data = await getJSON(`/collections/${cat.layer}/items`, { filter: `${cat.field} IN (${quoted})`, limit: 2000 });
      if (outlets.category !== cat.name) return;
      outlets.data = data;
      outlets.error = null;
    } catch (e) {
      outlets.error = errorText(e);
    }
    draw();
    renderResults();
  }

  /** How old and how complete the data behind the ranking are (the catalog's provenance). */
  function dataNote(cat) {
    const outletLayer = ctx.app.catalogLayer(cat.layer);
    const people = ctx.app.catalogLayer('population_grid');
    const n = outlets.data?.features.length;
    return h(
      'div',
      { class: 'site-data', id: 'site-data' },
      h('p', { class: 'hint', text: t('site.data') }),
      h(
        'ul',
        { class: 'hint' },
        outletLayer ? h('li', { 'data-layer': cat.layer, text: t('site.data.outlets', { line: provenanceLine(outletLayer, lang(), { count: outletLayer.count }) }) }) : null,
        people ? h('li', { 'data-layer': 'population_grid', text: t('site.data.people', { line: provenanceLine(people, lang()) }) }) : null,
      ),
      ['sparse', 'incomplete'].includes(outletLayer?.provenance?.completeness) ? h('p', { class: 'hint site-warn', text: t('site.data.warn') }) : null,
      n !== undefined
        ? h(
            'p',
            { class: 'hint', id: 'site-outlets' },
            h('span', { class: 'swatch swatch-circle', style: `background:${OUTLET_COLOUR}`, 'aria-hidden': 'true' }),
            ` ${t('site.outlets', { n: formatNumber(n, 0) })}`,
          )
        : null,
    );
  }

  function plainWords() {
    return h(
      'details',
      { class: 'site-plain', id: 'site-plain' },
      h('summary', { text: t('site.plain') }),
      h('p', { class: 'hint', text: t('site.plain.cells') }),
      h('p', { class: 'hint', text: t('site.plain.huff') }),
      h('p', { class: 'hint', text: t('site.plain.weights') }),
    );
  }

  function weightsParam() {
    const w = { ...defaults(), ...(state.weights || {}) };
    return FACTORS.map((f) => `${f}:${Number(w[f]).toString()}`).join(',');
  }

  async function run() {
    controller?.abort();
    if (!state.category) {
      state.data = null;
      draw();
      renderResults();
      return;
    }
    controller = new AbortController();
    state.busy = true;
    state.error = null;
    renderResults();
    zones.refresh();
    loadOutlets();
    try {
      await loadMeta();
      // the public ranking, as every visitor gets it: not charged to a business's quota
      state.data = await publicJSON(
        '/api/analysis/site',
        {
          category: state.category,
          top: state.top,
          res: state.res,
          weights: weightsParam(),
          district: state.district || undefined,
        },
        { signal: controller.signal },
      );
    } catch (e) {
      if (e?.name === 'AbortError') return;
      state.error = errorText(e);
      state.data = null;
    }
    state.busy = false;
    draw();
    renderResults();
    // A changed ranking changes the open cell's breakdown: show the new one, or close it.
    if (cardKind() === 'site-cell') {
      const open = state.data?.features.find((f) => f.id === state.selected);
      if (open) openFeature(open, null, { focus: false });
      else closeCard(ctx.app, { keepFocus: true });
    }
  }

  function change(patch, { now = false, controls = false } = {}) {
    Object.assign(state, patch);
    ctx.save();
    clearTimeout(timer);
    if (controls) renderControls();
    if (now) run();
    else timer = setTimeout(run, 300);
  }

  function slider(f) {
    const id = `site-w-${f}`;
    const v = Number(state.weights?.[f] ?? defaults()[f]);
    return h(
      'div',
      { class: 'slider' },
      h('label', { for: id }, h('span', { class: 'swatch swatch-fill', style: `background:${FACTOR_COLOURS[f]}`, 'aria-hidden': 'true' }), h('span', { text: t(`site.f.${f}`) })),
      h('input', {
        id,
        type: 'range',
        min: '0',
        max: String(WEIGHT_MAX),
        step: '0.1',
        value: String(v),
        'aria-valuetext': formatNumber(v, 1),
        oninput: (e) => {
          state.weights = { ...state.weights, [f]: Number(e.target.value) };
          e.target.setAttribute('aria-valuetext', formatNumber(Number(e.target.value), 1));
          e.target.nextSibling.textContent = formatNumber(Number(e.target.value), 1);
          change({});
        },
      }),
      h('output', { for: id, text: formatNumber(v, 1) }),
    );
  }

  function rankedList() {
    const feats = state.data?.features || [];
    if (!feats.length) return null;
    return h(
      'ol',
      { class: 'ranked', id: 'site-ranked', 'aria-label': t('site.ranked') },
      feats.slice(0, 10).map((f) =>
        h(
          'li',
          {},
          h('button', {
            type: 'button',
            class: 'link-button',
            'data-h3': f.id,
            text: t('site.cell.short', {
              rank: f.properties.rank,
              score: formatNumber(f.properties.score, 0),
              place: f.properties.place || ctx.app.districtName(f.properties.district || ''),
            }),
            title: placeText(ctx, f.properties),
            onclick: () => {
              // The answer's lon/lat are rounded: the hexagon's own centre is exact.
              const [lon, lat] = ringCentre(f.geometry);
              ctx.map.jumpTo({ center: [lon, lat], zoom: Math.max(ctx.map.getZoom(), 14) });
              openFeature(f, null, { focus: true });
            },
          }),
        ),
      ),
    );
  }

  // Two parts, drawn apart: the controls stay put while a slider is dragged and the ranking
  // that follows is drawn below them.
  function rerender() {
    if (!root) return;
    renderControls();
    renderResults();
  }

  function renderControls() {
    const meta = state.meta;
    const overview = ctx.app.overview;
    renderInto(
      controlsRoot,
      h('label', { for: 'site-category', text: t('site.category') }),
      h(
        'select',
        { id: 'site-category', onchange: (e) => change({ category: e.target.value, selected: null }, { now: true, controls: true }) },
        h('option', { value: '', text: meta ? t('site.choose') : t('loading') }),
        (meta?.categories || []).map((c) => h('option', { value: c.name, selected: c.name === state.category, text: tr(c.title) })),
      ),
      state.category
        ? [
            h('fieldset', { class: 'weights' }, h('legend', { text: t('site.weights') }), FACTORS.map(slider)),
            h(
              'div',
              { class: 'field-grid' },
              h('label', { for: 'site-res', text: t('site.res') }),
              h(
                'select',
                { id: 'site-res', onchange: (e) => change({ res: Number(e.target.value) }, { now: true }) },
                (meta?.resolutions || [8, 9, 10]).map((r) => h('option', { value: String(r), selected: r === state.res, text: t(`site.res.${r}`) })),
              ),
              h('label', { for: 'site-top', text: t('site.top') }),
              h(
                'select',
                { id: 'site-top', onchange: (e) => change({ top: Number(e.target.value) }, { now: true }) },
                [...new Set([...TOPS, state.top])].sort((a, b) => a - b).map((n) => h('option', { value: String(n), selected: n === state.top, text: String(n) })),
              ),
              h('label', { for: 'site-district', text: t('dash.choose') }),
              h(
                'select',
                { id: 'site-district', onchange: (e) => change({ district: e.target.value }, { now: true }) },
                h('option', { value: '', text: t('site.all_city') }),
                (overview?.districts || []).map((d) => h('option', { value: d.name, selected: d.name === state.district, text: ctx.app.districtName(d.name) })),
              ),
            ),
          ]
        : h('p', { class: 'hint', text: t('site.intro') }),
    );
  }

  function renderResults() {
    if (!resultsRoot) return;
    const cat = categoryOf(state.category);
    if (!state.category) return resultsRoot.replaceChildren(mine.controls());
    renderInto(
      resultsRoot,
      statusLine('site-status', {
        busy: state.busy,
        error: state.error,
        note: state.data ? t('site.summary', { n: state.data.features.length, total: formatNumber(state.data.total, 0) }) : '',
      }),
      state.data
        ? [
            h('div', { class: 'ramp', style: `background:linear-gradient(90deg,${SCORE_RAMP.join(',')})`, 'aria-hidden': 'true' }),
            h('div', { class: 'ramp-labels' }, h('span', { text: t('site.score.low') }), h('span', { text: t('site.score.high') })),
          ]
        : null,
      rankedList(),
      zones.controls(),
      cat ? h('p', { class: 'hint', text: t('site.about', { minutes: formatNumber(cat.minutes, 0) }) }) : null,
      plainWords(),
      cat ? dataNote(cat) : null,
      mine.controls(),
    );
  }

  function openFeature(f, _lngLat, { focus = false } = {}) {
    const id = f.id ?? f.properties.h3;
    // The map's copy of a feature loses nested values (factors) and is cut at tile edges:
    // the answer's own feature is whole.
    const full = state.data?.features.find((x) => x.id === id);
    if (!full) return;
    state.selected = id;
    openSiteCard(ctx, {
      id,
      props: full.properties,
      geometry: full.geometry,
      cat: state.data.category || categoryOf(state.category),
      total: state.data.total,
      focus,
    });
  }

  return {
    id: 'business',
    state,
    mount(el) {
      root = el;
      controlsRoot = h('div', { class: 'site-controls' });
      resultsRoot = h('div', { class: 'site-results' });
      root.replaceChildren(controlsRoot, resultsRoot);
      loadMeta();
      rerender();
    },
    rerender,
    relabel: rerender,
    addLayers(map) {
      zones.addLayers(map); // under the ranked cells, which take clicks first
      map.addSource(SOURCE, { type: 'geojson', data: EMPTY, promoteId: 'h3' });
      map.addSource(OUTLETS, { type: 'geojson', data: EMPTY });
      map.addLayer(
        {
          id: 'twin-an-site-fill',
          type: 'fill',
          source: SOURCE,
          paint: { 'fill-color': scoreColour(), 'fill-opacity': 0.72 },
        },
        fillsBefore(map),
      );
      map.addLayer(
        {
          id: 'twin-an-site-line',
          type: 'line',
          source: SOURCE,
          paint: { 'line-color': '#7a0019', 'line-width': 1 },
        },
        overBefore(map),
      );
      map.addLayer(
        {
          id: 'twin-an-site-rank',
          type: 'symbol',
          source: SOURCE,
          minzoom: 12,
          layout: { 'text-field': ['to-string', ['get', 'rank']], 'text-font': [REGULAR], 'text-size': 12, 'text-allow-overlap': false },
          paint: { 'text-color': '#1b1f24', 'text-halo-color': '#ffffff', 'text-halo-width': 1.4 },
        },
        overBefore(map),
      );
      // Competitors above the cells: a dark dot ringed in white reads on every score colour.
      map.addLayer(
        {
          id: 'twin-an-site-outlets',
          type: 'circle',
          source: OUTLETS,
          paint: { 'circle-radius': 5, 'circle-color': OUTLET_COLOUR, 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 1.5 },
        },
        overBefore(map),
      );
      mine.addLayers(map);
      draw();
    },
    clickLayers: () => [...mine.clickLayers(), ...(state.category ? ['twin-an-site-fill', ...zones.clickLayers()] : [])],
    openFeature(f, lngLat, opts) {
      if (f.layer.id === 'twin-an-site-fill') openFeature(f, lngLat, opts);
      else if (mine.owns(f.layer.id)) mine.openFeature(f);
      else zones.openFeature(f);
    },
    roleChanged: () => mine.roleChanged(),
    hash() {
      if (!state.category) return [];
      const d = defaults();
      const custom = state.weights && FACTORS.some((f) => Number(state.weights[f]) !== Number(d[f]));
      return [
        ['site', state.category],
        ['sitew', custom ? weightsParam() : null],
        ['siteres', state.res !== 9 ? state.res : null],
        ['sitetop', state.top !== 20 ? state.top : null],
        ['sitedistrict', state.district || null],
        ['sitezones', zones.hash().join(',') || null],
      ];
    },
    applyHash(p) {
      if (/^[a-z_]+$/.test(p.get('site') || '')) state.category = p.get('site');
      const w = {};
      for (const part of (p.get('sitew') || '').split(',')) {
        const [k, v] = part.split(':');
        if (FACTORS.includes(k) && Number.isFinite(Number(v)) && Number(v) >= 0) w[k] = Number(v);
      }
      if (Object.keys(w).length) state.weights = w;
      if ([8, 9, 10].includes(Number(p.get('siteres')))) state.res = Number(p.get('siteres'));
      if (Number(p.get('sitetop')) > 0) state.top = Math.min(Number(p.get('sitetop')), 1000);
      if (p.get('sitedistrict')) state.district = p.get('sitedistrict');
      zones.applyHash((p.get('sitezones') || '').split(','));
    },
    start() {
      if (state.category) run();
    },
  };
}
