// Site selection for businesses: choose a category, weigh demand, competition and access, see
// the best H3 cells ranked and coloured by score (0–100); a click on one shows why, as a bar of
// each factor's points (they add up to the score) and a sentence built from its figures.
// GET /api/analysis/site/categories once, then /api/analysis/site on every change.

import { getJSON } from './api.js';
import { errorText, fillsBefore, overBefore, renderInto, statusLine } from './analysis-ui.js';
import { cardKind, openCustomCard } from './card.js';
import { formatNumber } from './format.js';
import { REGULAR } from './fonts.js';
import { t, title as tr, value } from './i18n.js';
import { h } from './panel.js';

const SOURCE = 'twin-an-site';
const EMPTY = { type: 'FeatureCollection', features: [] };
const FACTORS = ['demand', 'competition', 'access'];
export const FACTOR_COLOURS = { demand: '#1f78b4', competition: '#ff7f00', access: '#6a3d9a' };
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
  let controller = null;
  let timer = 0;
  let metaLoading = null;

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
      rerender();
      return;
    }
    controller = new AbortController();
    state.busy = true;
    state.error = null;
    rerender();
    try {
      await loadMeta();
      state.data = await getJSON(
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
    rerender();
    // A changed ranking changes the open cell's breakdown: show the new one, or close it.
    if (cardKind() === 'site-cell') {
      const open = state.data?.features.find((f) => f.id === state.selected);
      if (open) openFeature(open, null, { focus: false });
    }
  }

  function change(patch, { now = false } = {}) {
    Object.assign(state, patch);
    ctx.save();
    clearTimeout(timer);
    if (now) run();
    else {
      rerender();
      timer = setTimeout(run, 300);
    }
  }

  function slider(f) {
    const id = `site-w-${f}`;
    const v = Number(state.weights?.[f] ?? defaults()[f]);
    const factorTitle = state.data?.factors?.find((x) => x.name === f)?.title;
    return h(
      'div',
      { class: 'slider' },
      h('label', { for: id }, h('span', { class: 'swatch swatch-fill', style: `background:${FACTOR_COLOURS[f]}`, 'aria-hidden': 'true' }), h('span', { text: factorTitle ? tr(factorTitle) : t(`site.f.${f}`) })),
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
              district: ctx.app.districtName(f.properties.district || ''),
            }),
            onclick: () => {
              const [lon, lat] = [f.properties.lon, f.properties.lat];
              ctx.map.jumpTo({ center: [lon, lat], zoom: Math.max(ctx.map.getZoom(), 14) });
              openFeature(f, null, { focus: true });
            },
          }),
        ),
      ),
    );
  }

  function rerender() {
    if (!root) return;
    const meta = state.meta;
    const overview = ctx.app.overview;
    const cat = categoryOf(state.category);
    renderInto(
      root,
      h('label', { for: 'site-category', text: t('site.category') }),
      h(
        'select',
        { id: 'site-category', onchange: (e) => change({ category: e.target.value, selected: null }, { now: true }) },
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
            cat ? h('p', { class: 'hint', text: t('site.about', { minutes: formatNumber(cat.minutes, 0) }) }) : null,
          ]
        : h('p', { class: 'hint', text: t('site.intro') }),
    );
  }

  /** The cell's figures as a sentence, in the interface language. */
  function sentence(p, cat) {
    const minutes = formatNumber(cat?.minutes ?? 10, 0);
    const parts = [t('site.why.demand', { n: formatNumber(p.residents_within, 0), minutes })];
    if (p.outlets_within > 0) {
      parts.push(
        t('site.why.competition', {
          n: formatNumber(p.outlets_within, 0),
          minutes,
          nearest: formatNumber(p.nearest_min, 0),
          share: formatNumber((p.competition ?? 0) * 100, 0),
        }),
      );
    } else {
      parts.push(t('site.why.none', { minutes }));
    }
    parts.push(t('site.why.access', { n: formatNumber(p.bus_stops_within ?? 0, 0) }));
    if (p.road_class) parts.push(t('site.why.road', { road: value('highway', p.road_class).toLowerCase() }));
    if (p.district) parts.push(t('site.why.district', { district: ctx.app.districtName(p.district) }));
    return `${parts.join('; ')}.`;
  }

  function factorBar(p) {
    const factors = p.factors || [];
    const total = factors.reduce((a, f) => a + f.points, 0);
    const label = factors.map((f) => `${tr(f.title)} ${formatNumber(f.points, 1)}`).join(' + ');
    return h(
      'div',
      { class: 'factor-bar', role: 'img', 'aria-label': `${label} = ${formatNumber(total, 1)} / 100` },
      factors.map((f) =>
        h('span', {
          class: 'factor-seg',
          'data-factor': f.name,
          style: `width:${Math.max(0, f.points)}%;background:${FACTOR_COLOURS[f.name] || '#888'}`,
          title: `${tr(f.title)}: ${formatNumber(f.points, 1)}`,
        }),
      ),
    );
  }

  function openFeature(f, _lngLat, { focus = false } = {}) {
    const p = typeof f.properties.factors === 'string' ? { ...f.properties, factors: JSON.parse(f.properties.factors) } : f.properties;
    const id = f.id ?? p.h3;
    // The map's copy of a feature loses nested values: take the full one from the answer.
    const full = state.data?.features.find((x) => x.id === id);
    const props = full ? full.properties : p;
    const cat = state.data?.category || categoryOf(state.category);
    state.selected = id;
    openCustomCard(ctx.app, {
      kind: 'site-cell',
      id,
      eyebrow: () => `${t('site.card')} · ${tr(cat?.title)}`,
      title: () => t('site.cell', { rank: props.rank }),
      body: () => [
        h(
          'p',
          { class: 'site-score' },
          h('strong', { id: 'site-score', 'data-value': String(props.score), text: formatNumber(props.score, 0) }),
          h('span', { text: ` / 100 · ${t('site.rank', { rank: props.rank, total: formatNumber(state.data?.total ?? 0, 0) })}` }),
        ),
        factorBar(props),
        h(
          'table',
          { class: 'factors' },
          h('caption', { class: 'sr-only', text: t('site.factors') }),
          h(
            'thead',
            {},
            h('tr', {}, h('th', { scope: 'col', text: t('site.factor') }), h('th', { scope: 'col', text: t('site.value') }), h('th', { scope: 'col', text: t('site.weight') }), h('th', { scope: 'col', text: t('site.points') })),
          ),
          h(
            'tbody',
            {},
            (props.factors || []).map((x) =>
              h(
                'tr',
                { 'data-factor': x.name },
                h('th', { scope: 'row' }, h('span', { class: 'swatch swatch-fill', style: `background:${FACTOR_COLOURS[x.name] || '#888'}`, 'aria-hidden': 'true' }), ` ${tr(x.title)}`),
                h('td', { text: `${formatNumber(x.value * 100, 0)}%` }),
                h('td', { text: formatNumber(x.weight, 1) }),
                h('td', { class: 'points', 'data-points': String(x.points), text: formatNumber(x.points, 1) }),
              ),
            ),
          ),
        ),
        h('p', { class: 'site-why', text: sentence(props, cat) }),
        h(
          'div',
          { class: 'card-actions' },
          h('button', {
            type: 'button',
            class: 'btn btn-small',
            text: t('iso.from_here'),
            onclick: () => ctx.isochroneFrom({ lon: props.lon, lat: props.lat }),
          }),
        ),
        h('p', { class: 'hint', text: t('site.note') }),
      ],
      geometry: full?.geometry || f.geometry,
      focus,
    });
  }

  return {
    id: 'business',
    state,
    mount(el) {
      root = el;
      loadMeta();
      rerender();
    },
    rerender,
    relabel: rerender,
    addLayers(map) {
      map.addSource(SOURCE, { type: 'geojson', data: EMPTY, promoteId: 'h3' });
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
      draw();
    },
    clickLayers: () => (state.category ? ['twin-an-site-fill'] : []),
    openFeature,
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
    },
    start() {
      if (state.category) run();
    },
  };
}
