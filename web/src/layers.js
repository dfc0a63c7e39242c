// The layer panel's model: one entry per catalog layer the caller may see (plus the digital
// inclusion view and the public aggregate of appeals), each tied to the style layers that draw
// it. The tie comes from each style layer's `metadata` (the catalog layer id), which
// /style.json writes for every layer it derives from the catalog.

import { formatNumber } from './format.js';
import { t, title as tr, value } from './i18n.js';

// What the map knows about a layer beyond its data (the panel group it sits in, whether it is
// on at start, whether a click opens its card) and the order and titles of the panel's
// groups all come from /catalog: they are declared once, in the layer catalog (layers/).

/** The ids of the catalog layers on when the URL names no layers. */
export function defaultOn(catalog) {
  return catalog.layers.filter((l) => l.default_on).map((l) => l.id);
}

/** The ids of the catalog layers a click opens no card for (the ground the rest stands on). */
export function notClickable(catalog) {
  return new Set(catalog.layers.filter((l) => !l.clickable).map((l) => l.id));
}

/** The point layers the digital inclusion view colours: those that declare wheelchair access. */
export function accessSources(catalog) {
  return catalog.layers
    .filter((l) => l.geometry === 'Point' && l.properties?.some((p) => p.name === 'wheelchair'))
    .map((l) => l.id);
}

// Not the schools' green nor the clinics' red (both may be on with this view): teal, purple
// and magenta stay apart for common colour-vision deficiencies.
export const ACCESS_COLORS = {
  yes: '#00838f',
  limited: '#6a1b9a',
  no: '#880e4f',
  unknown: '#8a8a8a',
};

/** The catalog layer id a style layer draws, from its metadata (several spellings accepted). */
export function catalogIdOf(styleLayer) {
  const m = styleLayer.metadata || {};
  return (
    m['twin:layer'] ??
    m['twin:layer_id'] ??
    m.layer ??
    m.layer_id ??
    m.catalog_layer ??
    m.twin?.layer ??
    (styleLayer.id.startsWith('twin-') ? null : styleLayer['source-layer']) ??
    null
  );
}

function legendOf(summary) {
  const s = summary.style || {};
  const kind = s.kind === 'fill-extrusion' ? 'fill' : s.kind || 'fill';
  const items = [];
  // Rated features take the colour of their residents' mean rating (catalog: rating_colors);
  // those nobody rated keep the colours below.
  for (const band of s.rating_colors || []) {
    items.push({ kind, color: band.color, label: () => tr(band.label) });
  }
  const prop = s.category_property;
  const colours = Object.entries(s.category_colors || {});
  if (s.ramp_property && s.ramp?.length) {
    // a fill coloured along a number: its lowest and highest stops
    const declared = summary.properties?.find((p) => p.name === s.ramp_property);
    const [lo, hi] = [s.ramp[0], s.ramp[s.ramp.length - 1]];
    const label = (v) => () => `${declared ? tr(declared.title) : ''} ${formatNumber(v[0])}${v === hi ? '+' : ''}`.trim();
    items.push({ kind, color: lo[1], label: label(lo) }, { kind, color: hi[1], label: label(hi) });
  } else if (prop && colours.length) {
    const declared = summary.properties?.find((p) => p.name === prop);
    for (const [v, color] of colours) {
      const label = declared?.values?.[v];
      items.push({ kind, color, label: () => (label ? tr(label) : value(prop, v)) });
    }
    const choices = declared?.choices;
    if (!choices || choices.length > colours.length) {
      items.push({ kind, color: s.color, label: () => t('legend.other') });
    }
  } else {
    items.push({ kind, color: s.color, outline: s.outline, label: () => tr(summary.title) });
  }
  return items;
}

/** Build the panel entries from /catalog and the loaded style. */
export function buildEntries(catalog, style) {
  const sources = accessSources(catalog);
  const byLayer = new Map();
  for (const sl of style.layers || []) {
    const id = catalogIdOf(sl);
    if (!id) continue;
    if (!byLayer.has(id)) byLayer.set(id, []);
    byLayer.get(id).push(sl.id);
  }
  // The H3 counts of point layers: their colours (style metadata) and the zoom they give way at.
  const hexagons = new Map();
  for (const sl of style.layers || []) {
    const id = catalogIdOf(sl);
    if (id && sl.metadata?.['twin:part'] === 'hexagons') {
      hexagons.set(id, { ramp: sl.metadata['twin:ramp'] ?? null, classes: sl.metadata['twin:classes'] ?? null, maxzoom: sl.maxzoom ?? null });
    }
  }
  const entries = [];
  for (const summary of catalog.layers) {
    entries.push({
      id: summary.id,
      module: summary.group,
      summary,
      title: () => tr(summary.title),
      // The district choropleth is the app's own layer, coloured from /api/districts.
      styleLayers: summary.id === 'district_indicators' ? ['twin-choropleth'] : byLayer.get(summary.id) || [],
      legend: legendOf(summary),
      hexagons: hexagons.get(summary.id) ?? null,
      minzoom: summary.minzoom,
      temporal: summary.temporal,
    });
  }
  // Residents see appeals only as H3 counts: the style draws them though the catalog omits them.
  if (!catalog.layers.some((l) => l.id === 'appeals') && byLayer.has('appeals')) {
    entries.push({
      id: 'appeals',
      module: 'appeals',
      summary: null,
      aggregate: true,
      title: () => t('layer.appeals.aggregate'),
      styleLayers: byLayer.get('appeals'),
      legend: [],
      hexagons: hexagons.get('appeals') ?? null,
      minzoom: 0,
      temporal: { start: 'created_on', end: 'resolved_on' },
    });
  }
  entries.push({
    id: 'accessibility',
    module: 'digital_inclusion',
    summary: null,
    title: () => t('layer.accessibility'),
    note: () => t('layer.accessibility.note'),
    styleLayers: sources.map((s) => `twin-access-${s}`),
    legend: Object.entries(ACCESS_COLORS).map(([v, color]) => ({
      kind: 'circle',
      color,
      label: () => value('wheelchair', v),
    })),
    minzoom: 10,
  });
  return entries;
}

/** The panel's groups in the catalog's order, each `{ id, title, entries }`; a group the
 * catalog does not list (none should) comes last, titled by its id. */
export function entriesByModule(entries, modules) {
  const groups = new Map(modules.map((m) => [m.id, { id: m.id, title: m.title, entries: [] }]));
  for (const e of entries) {
    if (!groups.has(e.module)) groups.set(e.module, { id: e.module, title: null, entries: [] });
    groups.get(e.module).entries.push(e);
  }
  return [...groups.values()];
}
