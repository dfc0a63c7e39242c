// What every resident sees of appeals beyond their own: the hexagon counts filtered by
// category and by the time slider, and the city services' rating.
//
// The map's tile hexagons (style layer "appeals-hexagons") count every appeal ever filed: the
// tiles know no category nor date. When a category is chosen or the time slider holds a date,
// they give way to /api/appeals/hexagons, the public answer that takes those filters and keeps
// the same protections (no cell under k appeals, a filtered cell only where the unfiltered one
// is safe beside it, the cell key noise of ±2, whole months). The slider's date D asks for the
// appeals filed up to D's month's end, as the other dated layers show what had started by D.
// Both are drawn in the same fixed classes of counts (the layer's Style.hexagon_classes,
// stated in its legend), so a colour means the same number of appeals whatever the filter.
// Staff see the appeals' points (the catalog gives them the layer itself); this is the
// residents' view only. The rating is /api/appeals/ratings: aggregates over ≥ k appeals.

import { publicJSON } from './api.js';
import { appealServices, loadedServices } from './appeal-services.js';
import { fillsBefore } from './analysis-ui.js';
import { formatDate, formatMonth, formatNumber } from './format.js';
import { lang, t } from './i18n.js';
import { setVisible } from './map.js';
import { h } from './panel.js';

const SOURCE = 'twin-appeals-filtered';
export const FILTERED_LAYER = 'twin-appeals-filtered';
const EMPTY = { type: 'FeatureCollection', features: [] };

/** The H3 resolution of the public hexagons at zoom `z`: the tiles' rule (tiles/zoom.py,
 * resolution 7 at z10, +0.71 a zoom), kept to the public answer's 6–9. */
export function hexResolution(z) {
  const res = Math.round(7 + ((Math.floor(z) - 10) * Math.log(2)) / Math.log(Math.sqrt(7)));
  return Math.max(6, Math.min(9, res));
}

export function setupAppealHexagons(app) {
  let category = '';
  let answer = null; // the last answer drawn
  let loadedKey = null; // what that answer was asked for
  let clock = 0;
  let error = null;
  let select = null;
  let status = null;

  const entry = () => app.entries.find((e) => e.id === 'appeals' && e.aggregate) || null;
  const filtered = () => Boolean(entry()) && app.isOn('appeals') && Boolean(category || app.date);

  function statusText() {
    if (!entry()) return '';
    if (!category && !app.date) return t('ap.filter.idle');
    if (!app.isOn('appeals')) return t('ap.filter.hidden');
    if (error) return t('ap.error', { detail: error });
    if (!answer) return t('ap.filter.loading');
    const parts = [];
    if (answer.end) parts.push(t('ap.filter.until', { month: formatMonth(answer.end) }));
    parts.push(t('ap.filter.shown', { n: answer.features.length, k: answer.k, withheld: answer.withheld_cells }));
    return parts.join(' ');
  }

  function showStatus() {
    if (status) status.textContent = statusText();
  }

  async function load() {
    const map = app.map;
    const params = { res: hexResolution(map.getZoom()), category, end: app.date || '' };
    // the server takes whole months: days of one month ask the same question
    const key = JSON.stringify({ ...params, end: params.end.slice(0, 7) });
    if (key === loadedKey) return;
    loadedKey = key;
    const asked = ++clock;
    answer = null;
    error = null;
    showStatus();
    try {
      const body = await publicJSON('/api/appeals/hexagons', params);
      if (asked !== clock) return;
      answer = body;
      // `h3` and `count`: what the map's click reads as an aggregate (the card's count)
      const features = body.features.map((f) => ({ ...f, properties: { ...f.properties, h3: f.properties.cell } }));
      map.getSource(SOURCE)?.setData({ type: 'FeatureCollection', features });
    } catch (e) {
      if (asked !== clock) return;
      loadedKey = null;
      error = e?.body?.detail || e?.message || String(e);
    }
    showStatus();
  }

  /** Show the filtered hexagons instead of the tiles' while a filter is on; back otherwise. */
  function sync() {
    const map = app.map;
    if (!map?.getLayer(FILTERED_LAYER)) return;
    const e = entry();
    const on = filtered();
    if (e) setVisible(map, e.styleLayers, app.isOn('appeals') && !on);
    map.setLayoutProperty(FILTERED_LAYER, 'visibility', on ? 'visible' : 'none');
    if (on) load();
    showStatus();
  }

  function addLayers(map) {
    // a style load (sign-in, sign-out) dropped the source: draw the last answer again
    map.addSource(SOURCE, { type: 'geojson', data: EMPTY });
    loadedKey = null;
    answer = null;
    const tiles = map.getStyle().layers.find((l) => entry()?.styleLayers.includes(l.id) && l.type === 'fill');
    map.addLayer(
      {
        id: FILTERED_LAYER,
        type: 'fill',
        source: SOURCE,
        minzoom: 9,
        layout: { visibility: 'none' },
        // the catalog layer it stands for: a click opens the appeals' aggregate card
        metadata: { 'twin:layer': 'appeals', 'twin:aggregate': true },
        // the tiles' fixed classes (tiles/style.py), not a scale stretched to this answer: a
        // colour means the same count with any filter, as the legend says
        paint: tiles?.paint ?? {
          'fill-color': ['interpolate', ['linear'], ['get', 'count'], 1, '#f3e6d4', 100, '#8c510a'],
          'fill-opacity': 0.35,
        },
      },
      fillsBefore(map),
    );
    sync();
  }

  /** The category choice and what the filtered map shows, under the appeals' layer. */
  function controls() {
    if (!entry()) return null;
    select = h('select', {
      id: 'appeal-category-filter',
      onchange: () => {
        category = select.value;
        if (category && !app.isOn('appeals')) app.toggle('appeals', true);
        sync();
      },
    });
    const fill = (list) => {
      select.replaceChildren(
        h('option', { value: '', text: t('ap.filter.all') }),
        ...list.map((s) => h('option', { value: s.service_code, text: s.service_name })),
      );
      select.value = category;
    };
    fill(loadedServices());
    appealServices().then(fill, () => fill([]));
    status = h('p', { id: 'appeal-filter-status', class: 'hint', role: 'status', 'aria-live': 'polite', text: statusText() });
    return h(
      'div',
      { class: 'group-extra', id: 'appeal-filter' },
      h('label', { for: 'appeal-category-filter', text: t('ap.filter.category') }),
      select,
      status,
    );
  }

  app.map.on('zoomend', () => filtered() && load());
  // `shown()`: the answer on the map and what it was asked for (read by the browser tests)
  return { addLayers, sync, controls, shown: () => ({ key: loadedKey, answer }) };
}

/** The city services' rating for everyone, as a <details> block that loads when opened. */
export function createRatings() {
  let data = null;
  let dataLang = null;
  let error = null;
  const body = h('div', { class: 'appeal-ratings-body' });
  const summary = h('summary', {});
  const element = h('details', { id: 'appeal-ratings', class: 'appeal-ratings' }, summary, body);

  function pct(v) {
    return v === null || v === undefined ? '—' : `${formatNumber(v * 100, 0)} %`;
  }

  function render() {
    summary.textContent = t('ap.rating.title');
    if (error) return body.replaceChildren(h('p', { class: 'error', role: 'alert', text: t('ap.error', { detail: error }) }));
    if (!data) return body.replaceChildren(h('p', { class: 'hint', text: t('ap.filter.loading') }));
    const rows = [...data.services].sort((a, b) => (a.rank ?? 1e9) - (b.rank ?? 1e9));
    body.replaceChildren(
      h('p', { class: 'hint', text: t('ap.rating.window', { from: formatDate(data.window.start), to: formatDate(data.window.end) }) }),
      h(
        'div',
        { class: 'table-scroll' },
        h(
          'table',
          { class: 'figures', id: 'appeal-ratings-table' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              // four columns: the count of appeals is under the service's name (a fifth column
              // pushed the table past a phone's width in Russian and Kazakh)
              ['service', 'score', 'mean', 'onTime'].map((k) => h('th', { scope: 'col', text: t(`ap.rating.${k}`) })),
            ),
          ),
          h(
            'tbody',
            {},
            rows.map((s) =>
              s.withheld
                ? h(
                    'tr',
                    { 'data-service': s.service, 'data-withheld': 'true' },
                    h('th', { scope: 'row', text: s.title }),
                    h('td', { colspan: 3, class: 'hint', text: t('ap.rating.withheld', { k: data.k }) }),
                  )
                : h(
                    'tr',
                    { 'data-service': s.service, 'data-rank': s.rank ?? '', 'data-mean': s.mean_rating ?? '', 'data-count': String(s.appeals) },
                    h(
                      'th',
                      { scope: 'row' },
                      s.rank ? `${s.rank}. ${s.title}` : s.title,
                      h('span', { class: 'ap-rating-count', text: t('ap.rating.count', { n: formatNumber(s.appeals, 0) }) }),
                    ),
                    h('td', { text: formatNumber(s.score, 1) }),
                    h('td', { text: s.mean_rating === null ? '—' : `${formatNumber(s.mean_rating, 2)} ★` }),
                    h('td', { text: pct(s.on_time) }),
                  ),
            ),
          ),
        ),
      ),
      h('p', { class: 'hint', text: t('ap.rating.k', { k: data.k }) }),
      h('p', { class: 'hint', text: `${t('ap.rating.formula')}: ${t('ap.rating.formulaText', { min: data.min_ranked })}` }),
      data.synthetic ? h('p', { class: 'hint', text: t('ap.synthetic') }) : null,
    );
  }

  async function load() {
    if (data && dataLang === lang()) return render();
    dataLang = lang();
    data = null;
    error = null;
    render();
    try {
      data = await publicJSON('/api/appeals/ratings', { lang: dataLang });
    } catch (e) {
      error = e?.body?.detail || e?.message || String(e);
      dataLang = null;
    }
    render();
  }

  element.addEventListener('toggle', () => element.open && load());
  render();
  return {
    element,
    /** After a language change: the titles, and the services' names in it when open. */
    rerender() {
      if (element.open) load();
      else render();
    },
  };
}
