// The feature card: the feature's properties with translated labels, units and values; demo
// data marked. Opened from a map click (tile properties at once, then the full feature from
// /collections/{layer}/items/{fid}) or from search.

import { openAirSurface } from './air-surface.js';
import { getJSON } from './api.js';
import { lineChart } from './chart.js';
import { formatDate, formatNumber, formatValue } from './format.js';
import { t, title as tr } from './i18n.js';
import { h } from './panel.js';
import { stateOf } from './timeline.js';

const LABEL_PROPS = ['name', 'title', 'address', 'category', 'station_id', 'cell_id'];
const HIDDEN = new Set(['accessibility_generated', 'synthetic']);

/** Whether a boolean property is set, whether it came from a tile or from the features API. */
function isSet(v) {
  return v === true || v === 1 || v === 'true';
}

const PHONE = window.matchMedia('(max-width: 899px)');

let current = null; // {layerId, fid, properties, geometry, summary, loaded}
let returnFocus = null;

function labelOf(app, c) {
  const p = c.properties || {};
  if (c.layerId === 'districts' && p.name) return app.districtName(p.name);
  for (const k of LABEL_PROPS) {
    if (!p[k]) continue;
    const prop = k === 'category' ? c.summary?.properties.find((x) => x.name === k) : null;
    return (prop && formatValue(prop, p[k])) || String(p[k]);
  }
  if (p.h3 && p.count !== undefined) return c.entryTitle;
  return t('card.unnamed');
}

const POLLUTANT_NAMES = { pm10: 'PM10', no2: 'NO₂' };

/**
 * The station's real daily means over the 30 days that end on its latest day (the same day
 * as the values above it, so the card cannot contradict itself): PM10 where the station
 * measures it, else NO2.
 */
function readingsChart(raw) {
  let rows = raw;
  if (typeof raw === 'string') {
    try {
      rows = JSON.parse(raw);
    } catch {
      return null;
    }
  }
  if (!Array.isArray(rows) || !rows.length) return null;
  const key = rows.some((r) => r.pm10 !== undefined) ? 'pm10' : 'no2';
  const day0 = Date.parse(`${rows[0].date}T00:00:00Z`);
  const points = rows
    .filter((r) => r[key] !== undefined)
    .map((r) => ({ x: Math.round((Date.parse(`${r.date}T00:00:00Z`) - day0) / 86400000) + 1, y: Number(r[key]) }));
  const first = rows[0].date;
  const last = rows[rows.length - 1].date;
  const name = t('card.readings', { name: POLLUTANT_NAMES[key] });
  return h(
    'figure',
    { class: 'card-figure', 'data-first': first, 'data-last': last, 'data-pollutant': key },
    lineChart([{ points, kind: 'main' }], {
      height: 90,
      label: `${name}: ${formatDate(first)} – ${formatDate(last)}`,
      format: (v) => formatNumber(v, 0),
    }),
    h('figcaption', { text: `${name} (${formatDate(first)} – ${formatDate(last)})` }),
  );
}

function rows(app, c) {
  const p = c.properties || {};
  const out = [];
  if (p.h3 !== undefined && p.count !== undefined) {
    out.push([c.aggregateLabel || t('hex.count'), formatNumber(Number(p.count), 0), 'count']);
  } else if (c.summary) {
    for (const prop of c.summary.properties) {
      if (HIDDEN.has(prop.name) || prop.name === 'readings') continue;
      let text = formatValue(prop, p[prop.name], { districtName: (n) => app.districtName(n) });
      if (text === null) continue;
      const temporal = c.summary.temporal;
      if (app.date && temporal?.state === prop.name) {
        // the time slider's date: the state then, and today's when it differs
        const then = stateOf(temporal, p, app.date);
        const at = t('time.on', { date: formatDate(app.date) });
        text = then === p[prop.name] ? `${text} (${at})` : `${formatValue(prop, then)} (${at}; ${t('time.now')}: ${text})`;
      }
      // A value of a real feature that was generated (the catalog names the flag that says so).
      const demo = prop.generated_flag && isSet(p[prop.generated_flag]) ? ' *' : '';
      out.push([tr(prop.title), text + demo, prop.name]);
    }
  }
  return out;
}

function head(app, eyebrow, titleText) {
  return h(
    'div',
    { class: 'sheet-head' },
    h('div', {}, h('p', { class: 'eyebrow', text: eyebrow }), h('h2', { id: 'card-title', tabindex: '-1', text: titleText })),
    h('button', {
      type: 'button',
      class: 'btn btn-icon btn-close',
      'aria-label': t('close'),
      text: '×',
      onclick: () => closeCard(app),
    }),
  );
}

function render(app) {
  const root = document.getElementById('card');
  const c = current;
  if (!c) {
    root.hidden = true;
    root.replaceChildren();
    return;
  }
  if (c.custom) {
    // An analysis result (an isochrone, a ranked cell, a school's load …): its module draws it.
    const focused = root.contains(document.activeElement) ? document.activeElement.id : null;
    root.replaceChildren(head(app, c.custom.eyebrow(), c.custom.title()), h('div', { class: 'sheet-body' }, c.custom.body()));
    root.dataset.layer = c.layerId;
    root.dataset.fid = c.fid ?? '';
    root.hidden = false;
    if (focused) document.getElementById(focused)?.focus();
    return;
  }
  const p = c.properties || {};
  const synthetic = isSet(p.synthetic);
  const badge = synthetic ? h('p', { class: 'badge badge-demo', text: `${t('demo.badge')} · ${t('demo.feature')}` }) : null;
  const accessNote =
    p.accessibility_generated && !synthetic ? h('p', { class: 'hint', text: `* ${t('demo.accessibility')}` }) : null;
  // An air station whose readings are not in the loaded data says so (no values are made up).
  const readingsNote =
    c.layerId === 'air_sensors' && !c.loading && !p.latest_day
      ? h('p', { class: 'hint', 'data-note': 'no-readings', text: t('air.noreadings') })
      : null;
  const surfaceKey = p.pm10 !== undefined && p.pm10 !== null ? 'pm10' : 'no2';
  const surfaceButton =
    c.layerId === 'air_sensors' && p.latest_day
      ? h('button', {
          type: 'button',
          id: 'air-surface-open',
          class: 'btn btn-small',
          text: t('air.surface.open', { name: POLLUTANT_NAMES[surfaceKey] }),
          onclick: () => openAirSurface(app, { parameter: surfaceKey, day: String(p.latest_day).slice(0, 10) }),
        })
      : null;
  const dl = h(
    'dl',
    { class: 'props' },
    rows(app, c).map(([k, v, name]) => [h('dt', { text: k }), h('dd', { text: v, 'data-prop': name })]),
  );
  const district = p.district || (c.layerId === 'districts' ? p.name : null);
  const districtButton =
    district && app.overview
      ? h('button', {
          type: 'button',
          class: 'btn btn-small',
          text: t('card.district', { name: app.districtName(district) }),
          onclick: () => app.openDashboard(district),
        })
      : null;
  const source = c.summary?.attribution
    ? h('p', { class: 'source', text: `${t('card.source')}: ${c.summary.attribution}` })
    : null;
  const focused = root.contains(document.activeElement) ? document.activeElement.id : null;
  root.replaceChildren(
    head(app, c.entryTitle, labelOf(app, c)),
    h(
      'div',
      { class: 'sheet-body' },
      badge,
      c.loading ? h('p', { class: 'hint', text: t('loading') }) : null,
      dl,
      readingsNote,
      c.layerId === 'air_sensors' ? readingsChart(p.readings) : null,
      accessNote,
      h('div', { class: 'card-actions' }, districtButton, surfaceButton, app.cardActions?.(c) ?? null),
      source,
    ),
  );
  root.dataset.layer = c.layerId;
  root.dataset.fid = c.fid ?? '';
  root.hidden = false;
  if (focused) document.getElementById(focused)?.focus();
}

/**
 * The whole of a street `label` names (search merges a street's pieces into one hit): its
 * pieces within `bbox` whose label property reads `label`, as one MultiLineString; null when
 * the feature is the street's only piece or the pieces cannot be fetched.
 */
async function wholeStreet(layerId, properties, { label, bbox }) {
  const prop = ['name', 'title', 'address', 'street'].find((k) => properties[k] === label);
  if (!prop) return null;
  const query = new URLSearchParams({ [prop]: label, bbox: bbox.join(','), limit: '1000' });
  try {
    const fc = await getJSON(`/collections/${encodeURIComponent(layerId)}/items?${query}`);
    const lines = [];
    for (const f of fc.features ?? []) {
      const g = f.geometry;
      if (g?.type === 'LineString') lines.push(g.coordinates);
      else if (g?.type === 'MultiLineString') lines.push(...g.coordinates);
    }
    return (fc.features ?? []).length > 1 ? { type: 'MultiLineString', coordinates: lines } : null;
  } catch {
    return null;
  }
}

/**
 * Show the card of a feature; fetch the full feature when it has a fid. `whole` ({label,
 * bbox} of a search hit for a street) highlights every piece of the street, not only this one.
 */
export async function openCard(
  app,
  { layerId, fid, properties = {}, geometry = null, focus = true, aggregateLabel = null, whole = null },
) {
  if (!returnFocus && focus) returnFocus = document.activeElement;
  app.closeDashboard?.({ keepFocus: true });
  const entry = app.entries.find((e) => e.id === layerId);
  const summary = app.catalogLayer(layerId);
  current = {
    layerId,
    fid,
    properties,
    geometry,
    summary,
    entryTitle: entry ? entry.title() : summary ? tr(summary.title) : layerId,
    aggregateLabel,
    loading: Boolean(summary && fid !== undefined && fid !== null),
  };
  app.select(geometry);
  render(app);
  if (focus) document.getElementById('card-title')?.focus();
  if (!current.loading) return current;
  const mine = current;
  try {
    const feature = await getJSON(`/collections/${encodeURIComponent(layerId)}/items/${encodeURIComponent(fid)}`);
    if (current !== mine) return current;
    mine.properties = { ...mine.properties, ...feature.properties };
    mine.geometry = feature.geometry || mine.geometry;
    app.select(mine.geometry);
    const street = whole && (await wholeStreet(layerId, mine.properties, whole));
    if (current !== mine) return current;
    if (street) {
      mine.geometry = street;
      app.select(street);
    }
  } catch {
    /* keep what the tile had */
  }
  mine.loading = false;
  if (current === mine) render(app);
  return current;
}

/**
 * Show an analysis result in the card: `eyebrow`, `title` and `body` are functions (called
 * again after a language change); `kind` names it in `data-layer`, `id` in `data-fid`.
 */
export function openCustomCard(app, { kind, id = null, eyebrow, title, body, geometry = null, focus = true }) {
  if (!returnFocus && focus) returnFocus = document.activeElement;
  app.closeDashboard?.({ keepFocus: true });
  current = { layerId: kind, fid: id, properties: {}, geometry, custom: { eyebrow, title, body } };
  app.select(geometry);
  render(app);
  if (focus) document.getElementById('card-title')?.focus();
  return current;
}

/** Return the kind (`data-layer`) of the open card, or null. */
export function cardKind() {
  return current?.layerId ?? null;
}

export function closeCard(app, { keepFocus = false } = {}) {
  if (!current) return;
  current = null;
  app.select(null);
  render(app);
  if (!keepFocus) {
    let target = returnFocus && document.contains(returnFocus) ? returnFocus : app.map.getCanvas();
    // On a phone, focusing a text box opens the keyboard (and the search list) over the map
    // the person just came back to: the map takes the focus instead.
    if (PHONE.matches && target.matches?.('input[type="search"], input[type="text"], textarea')) {
      target = app.map.getCanvas();
    }
    target.focus({ preventScroll: true });
  }
  returnFocus = null;
}

export function rerenderCard(app) {
  if (current) {
    const entry = current.custom ? null : app.entries.find((e) => e.id === current.layerId);
    if (entry) current.entryTitle = entry.title();
    render(app);
  }
}

export function cardOpen() {
  return Boolean(current);
}
