// A signed-in business's own addresses (issue 21): upload a CSV or GeoJSON of candidate sites,
// see them scored for the chosen category and ranked on the map (numbered dots, best first),
// the rows the twin's search could not place listed with the reason, and download the market
// report of any of them as PDF or HTML. POST /api/analysis/site/batch and GET
// /api/analysis/site/report, both for business accounts (session or organisation key) only.
// The organisation's plan and today's use of its quota are shown above them (GET
// /api/business/org, asked again after each charged call), with its usage as CSV (GET
// /api/business/usage.csv: per UTC day, key and analysis).

import { businessFetch, hasKey, hasOrgKey } from './api.js';
import { errorText, overBefore } from './analysis-ui.js';
import { openCustomCard } from './card.js';
import { placeText } from './business-card.js';
import { formatNumber } from './format.js';
import { REGULAR } from './fonts.js';
import { lang, t } from './i18n.js';
import { h } from './panel.js';

const SOURCE = 'twin-an-site-mine';
const EMPTY = { type: 'FeatureCollection', features: [] };
const COLOUR = '#0d47a1';

export function createMine(ctx, { category, weights, res, status }) {
  const state = { data: null, busy: false, error: null, reportBusy: null, file: '', quota: null, quotaAsked: false };

  /** A business may use these: an organisation key, a business account, or a staff key. */
  function allowed() {
    return hasOrgKey() || hasKey() || ctx.app.participation?.account?.role === 'business';
  }

  /** An organisation's own caller (not staff): it has a plan and a quota to show. */
  function isOrg() {
    return hasOrgKey() || ctx.app.participation?.account?.role === 'business';
  }

  /** Ask for the organisation's plan and where it stands in today's quota. */
  async function refreshQuota() {
    state.quotaAsked = true;
    if (!isOrg()) {
      state.quota = null;
      return;
    }
    try {
      state.quota = await (await businessFetch('GET', '/api/business/org')).json();
    } catch {
      state.quota = null;
    }
    status();
  }

  /** Save a fetched answer as a file. */
  async function save(response, name) {
    const blob = await response.blob();
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 60000);
  }

  async function usageCsv() {
    state.error = null;
    try {
      await save(await businessFetch('GET', '/api/business/usage.csv'), 'usage.csv');
    } catch (e) {
      state.error = errorText(e);
      status();
    }
  }

  function quota() {
    const q = state.quota;
    if (!q?.plan || !q.day) return null;
    const title = q.plan.title?.[lang()] || q.plan.name;
    return h(
      'p',
      { class: 'hint', id: 'mine-quota' },
      h('span', { text: `${t('mine.quota', { plan: title, used: formatNumber(q.day.used, 0), limit: formatNumber(q.day.limit, 0) })} ` }),
      h('button', { type: 'button', class: 'link-button', id: 'mine-usage-csv', text: t('mine.usageCsv'), onclick: usageCsv }),
    );
  }

  /** The scored sites, best first; sites outside the city's areas last. */
  function ranked() {
    const feats = state.data?.features || [];
    return [...feats].sort((a, b) => (b.properties.score ?? -1) - (a.properties.score ?? -1));
  }

  function draw() {
    const list = ranked().map((f, i) => ({ ...f, properties: { ...f.properties, mine_rank: i + 1 } }));
    ctx.map?.getSource(SOURCE)?.setData(list.length ? { type: 'FeatureCollection', features: list } : EMPTY);
  }

  function fit() {
    const pts = (state.data?.features || []).map((f) => f.geometry.coordinates);
    if (!pts.length || !ctx.map) return;
    const xs = pts.map((p) => p[0]);
    const ys = pts.map((p) => p[1]);
    ctx.map.fitBounds(
      [
        [Math.min(...xs), Math.min(...ys)],
        [Math.max(...xs), Math.max(...ys)],
      ],
      { padding: 80, maxZoom: 15, animate: false },
    );
  }

  async function upload(file) {
    if (!file || !category()) return;
    state.busy = true;
    state.error = null;
    state.file = file.name;
    status();
    try {
      const type = /\.(geo)?json$/i.test(file.name) ? 'application/geo+json' : 'text/csv';
      const response = await businessFetch(
        'POST',
        '/api/analysis/site/batch',
        { category: category(), weights: weights(), res: res(), lang: lang(), filename: file.name },
        file,
        { Accept: 'application/json', 'Content-Type': type },
      );
      state.data = await response.json();
    } catch (e) {
      state.error = errorText(e);
      state.data = null;
    }
    state.busy = false;
    draw();
    fit();
    status();
    refreshQuota();
  }

  async function report(f, format) {
    const p = f.properties;
    const [lon, lat] = f.geometry.coordinates;
    state.reportBusy = `${p.row}-${format}`;
    state.error = null;
    status();
    try {
      const response = await businessFetch('GET', '/api/analysis/site/report', {
        category: category(),
        lon: String(lon),
        lat: String(lat),
        label: String(p.label || p.place || '').slice(0, 120),
        lang: lang(),
        format,
      });
      await save(response, `report-${category()}-${p.row}.${format}`);
    } catch (e) {
      state.error = errorText(e);
    }
    state.reportBusy = null;
    status();
    refreshQuota();
  }

  function label(p) {
    return p.label || p.address || placeText(ctx, p);
  }

  function openFeature(f) {
    const p = f.properties;
    openCustomCard(ctx.app, {
      kind: 'site-mine',
      id: String(p.row),
      eyebrow: () => t('mine.title'),
      title: () => label(p),
      body: () => [
        h('p', { class: 'site-place', text: placeText(ctx, p) }),
        p.inside
          ? h('p', { class: 'site-score' }, h('strong', { text: formatNumber(p.score, 0) }), h('span', { text: ` / 100 · ${t('site.rank', { rank: p.rank, total: formatNumber(p.total, 0) })}` }))
          : h('p', { text: t('mine.outside', { label: label(p) }) }),
        h(
          'dl',
          { class: 'props' },
          [5, 10, 15].map((m) => [h('dt', { text: `${t('acc.population')} · ${m} ${t('unit.min')}` }), h('dd', { text: formatNumber(p[`residents_${m}min`], 0) })]),
        ),
      ],
      geometry: f.geometry,
      focus: false,
    });
  }

  function item(f, i) {
    const p = f.properties;
    const text = p.inside ? t('mine.item', { label: label(p), score: formatNumber(p.score, 0), rank: formatNumber(p.rank, 0) }) : t('mine.outside', { label: label(p) });
    return h(
      'li',
      { 'data-row': String(p.row), 'data-score': String(p.score ?? '') },
      h('button', {
        type: 'button',
        class: 'link-button',
        text: `${i + 1}. ${text}`,
        onclick: () => {
          ctx.map.jumpTo({ center: f.geometry.coordinates, zoom: Math.max(ctx.map.getZoom(), 15) });
          openFeature(f);
        },
      }),
      h('span', { class: 'hint', text: ` · ${placeText(ctx, p)} ` }),
      // a house the data lacks, placed on its street from two numbered neighbours: say so
      p.resolved_as?.precision === 'interpolated'
        ? h('span', { class: 'hint mine-interpolated', text: `${t('mine.interpolated', { street: p.resolved_as.label, houses: p.resolved_as.from_houses.join(', ') })} ` })
        : null,
      // other streets the address matches as well: the owner knows which one was meant
      p.resolved_as?.other_streets?.length
        ? h('span', { class: 'hint mine-ambiguous', text: `${t('mine.otherStreets', { streets: p.resolved_as.other_streets.join('; ') })} ` })
        : null,
      p.inside
        ? h(
            'span',
            { class: 'mine-reports' },
            ['pdf', 'html'].map((format) =>
              h('button', {
                type: 'button',
                class: 'btn btn-small',
                'data-report': format,
                disabled: Boolean(state.reportBusy),
                text: t(format === 'pdf' ? 'mine.report' : 'mine.report.html'),
                onclick: () => report(f, format),
              }),
            ),
          )
        : null,
    );
  }

  function unresolved() {
    const list = state.data?.unresolved || [];
    if (!list.length) return null;
    return h(
      'div',
      { id: 'mine-unresolved' },
      h('p', { class: 'hint', text: t('mine.unresolved', { n: formatNumber(list.length, 0) }) }),
      h(
        'ul',
        {},
        list.map((u) =>
          h('li', {
            'data-row': String(u.row),
            text: `${t('mine.row', { row: u.row, label: [u.label, u.address && u.address !== u.label ? `(${u.address})` : ''].filter(Boolean).join(' ') })} — ${t(`mine.reason.${u.reason}`, { guess: u.best_guess?.label ?? '' })}`,
          }),
        ),
      ),
    );
  }

  return {
    controls() {
      const parts = [h('h3', { class: 'mine-title', text: t('mine.title') })];
      if (!allowed()) {
        parts.push(h('p', { class: 'hint', id: 'mine-signin', text: t('mine.signin') }));
        return h('section', { class: 'site-mine', id: 'site-mine' }, parts);
      }
      if (!state.quotaAsked) refreshQuota();
      parts.push(
        quota(),
        h('label', { for: 'mine-file', text: t('mine.file') }),
        h('input', {
          id: 'mine-file',
          type: 'file',
          accept: '.csv,.geojson,.json,text/csv,application/geo+json',
          disabled: !category() || state.busy,
          onchange: (e) => upload(e.target.files?.[0]),
        }),
        h('p', { class: 'hint', text: category() ? t('mine.format') : t('site.intro') }),
      );
      if (state.busy || state.reportBusy) parts.push(h('p', { class: 'status', role: 'status', text: t(state.busy ? 'mine.busy' : 'mine.report.busy') }));
      if (state.error) parts.push(h('p', { class: 'error', role: 'alert', id: 'mine-error', text: state.error }));
      const list = ranked();
      if (list.length) {
        parts.push(h('p', { class: 'hint', text: t('mine.ranked') }), h('ol', { class: 'ranked', id: 'mine-ranked' }, list.map(item)));
      }
      parts.push(unresolved());
      return h('section', { class: 'site-mine', id: 'site-mine' }, parts);
    },
    addLayers(map) {
      map.addSource(SOURCE, { type: 'geojson', data: EMPTY });
      map.addLayer(
        {
          id: 'twin-an-site-mine',
          type: 'circle',
          source: SOURCE,
          paint: { 'circle-radius': 11, 'circle-color': COLOUR, 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 2 },
        },
        overBefore(map),
      );
      map.addLayer(
        {
          id: 'twin-an-site-mine-rank',
          type: 'symbol',
          source: SOURCE,
          layout: { 'text-field': ['to-string', ['get', 'mine_rank']], 'text-font': [REGULAR], 'text-size': 12, 'text-allow-overlap': true },
          paint: { 'text-color': '#ffffff' },
        },
        overBefore(map),
      );
      draw();
    },
    clickLayers: () => (state.data ? ['twin-an-site-mine'] : []),
    owns: (layerId) => layerId === 'twin-an-site-mine',
    openFeature,
    roleChanged() {
      if (!allowed()) {
        state.data = null;
        draw();
      }
      state.quota = null;
      state.quotaAsked = false; // asked again for the new caller when the panel is drawn
      status();
    },
    state,
  };
}
