// Almaty City Twin — the residents' map. Wires the map, panel, card, search, time slider and
// district dashboard together around one `app` object; the view lives in the URL hash.

import 'maplibre-gl/dist/maplibre-gl.css';
import '@fontsource/noto-sans/400.css';
import '@fontsource/noto-sans/600.css';
import './style.css';
import './analysis.css';

import { setupAnalyses } from './analysis.js';
import { ApiError, getJSON, setKey } from './api.js';
import { closeCard, openCard, rerenderCard } from './card.js';
import { setupBudget } from './budget.js';
import { setupCityEvents } from './city-events.js';
import {
  applyChoropleth,
  closeDashboard,
  dashboardDistrict,
  openDashboard,
  rerenderDashboard,
} from './dashboard.js';
import { applyStatic, lang, onLangChange, setLang, setVocabulary, t, title as tr, unit, value } from './i18n.js';
import { buildEntries, catalogIdOf, defaultOn, notClickable } from './layers.js';
import {
  addAppLayers,
  createMap,
  localiseControls,
  localiseLabels,
  prepareStyle,
  setSelection,
  setVisible,
} from './map.js';
import { renderPanel } from './panel.js';
import { setupParticipation } from './participation.js';
import { setupAppeals } from './appeals.js';
import { setupAppealHexagons } from './appeals-public.js';
import { startLive } from './live.js';
import { setupSearch } from './search.js';
import { initialView, readHash, writeHash } from './state.js';
import { applyDateFilter, setupTimeline } from './timeline.js';
import { setupGuide } from './guide.js';

const DESKTOP = window.matchMedia('(min-width: 900px)');
const REDUCED_MOTION = window.matchMedia('(prefers-reduced-motion: reduce)');

// A bare address (no view, layers or language in it): a first look, where the guide may show.
const FRESH_VISIT = location.hash.replace(/^#/, '') === '';
const hashState = readHash();
if (hashState.lang) setLang(hashState.lang);
applyStatic();

const app = {
  map: null,
  catalog: null,
  overview: null,
  entries: [],
  // The layers that are on: the URL's, or the catalog's default ones (set in start()).
  on: new Set(hashState.layers || []),
  notClickable: new Set(),
  date: hashState.date || null,
  indicator: hashState.ind || 'density',
  role: 'anonymous',
  baseFilters: {},
  // filters a panel puts on a dated layer, by catalog id (the budget panel's selected cycle)
  layerFilters: {},
  timeline: null,
  search: null,
  analyses: null,
  panel: null, // the open side panel: 'layers', 'analysis' or null

  catalogLayer(id) {
    return this.catalog?.layers.find((l) => l.id === id) || null;
  },
  isOn(id) {
    return this.on.has(id);
  },
  districtName(name) {
    const d = this.overview?.districts.find((x) => x.name === name);
    if (!d) return value('district', name);
    return { ru: d.name_ru, kk: d.name_kk, en: d.name }[lang()] || name;
  },
  indicatorTitle(ind) {
    return tr(ind.title);
  },
  toggle(id, on) {
    if (on) this.on.add(id);
    else this.on.delete(id);
    const entry = this.entries.find((e) => e.id === id);
    if (entry) setVisible(this.map, entry.styleLayers, on);
    if (id === 'district_indicators') applyChoropleth(this);
    const box = document.querySelector(`input[data-layer="${CSS.escape(id)}"]`);
    if (box && box.checked !== on) box.checked = on;
    // a legend is shown for what is on the map
    box?.closest('li')?.querySelector('.legend')?.toggleAttribute('hidden', !on);
    this.appealHexagons?.sync();
    rerenderDashboard(this);
    this.saveState();
  },
  /** Draw only the features of the dated catalog layer `id` that match the MapLibre
   * expression `filter` (null: all of them again); the time slider's date still applies. */
  filterLayer(id, filter) {
    if (filter) this.layerFilters[id] = filter;
    else delete this.layerFilters[id];
    applyDateFilter(this);
  },
  setDate(date) {
    this.date = date;
    applyDateFilter(this);
    this.appealHexagons?.sync();
    applyChoropleth(this);
    rerenderCard(this);
    this.cityEvents?.refresh();
    this.saveState();
  },
  setIndicator(name, { show = false } = {}) {
    this.indicator = name;
    const select = document.getElementById('choropleth-select');
    if (select && select.value !== name) select.value = name;
    if (show && !this.isOn('district_indicators')) this.toggle('district_indicators', true);
    applyChoropleth(this);
    rerenderDashboard(this);
    this.saveState();
  },
  select(geometry) {
    this.selection = geometry; // what is highlighted (read by the browser tests)
    setSelection(this.map, geometry);
  },
  openDashboard(name) {
    closeCard(this, { keepFocus: true });
    openDashboard(this, name).then(() => this.saveState());
    this.saveState();
  },
  closeDashboard(opts) {
    closeDashboard(this, opts);
    this.saveState();
  },
  async signIn(key) {
    if (!key) return false;
    try {
      await getJSON('/catalog', {}, { key });
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return false;
      throw e;
    }
    setKey(key);
    this.on.add('cameras');
    await loadStyle();
    this.analyses?.roleChanged();
    this.participation?.rerender();
    this.cityEvents?.refresh(); // the staff form and the close buttons
    this.budget?.roleChanged(); // the budget's staff block
    return true;
  },
  async signOut() {
    setKey('');
    this.on.delete('cameras');
    await loadStyle();
    this.analyses?.roleChanged();
    this.participation?.rerender();
    this.cityEvents?.refresh();
    this.budget?.roleChanged();
  },
  cardActions(card) {
    return [this.analyses?.cardActions(card) ?? null, this.participation?.cardBlock(card) ?? null];
  },
  goTo(result) {
    const { map } = this;
    const entry = this.entries.find((e) => e.id === result.layer);
    if (entry && !this.isOn(entry.id)) this.toggle(entry.id, true);
    const [x0, y0, x1, y1] = result.bbox;
    const padding = sheetPadding();
    const big = x1 - x0 > 0.004 || y1 - y0 > 0.003;
    const animate = !REDUCED_MOTION.matches;
    if (big) {
      map.fitBounds(
        [
          [x0, y0],
          [x1, y1],
        ],
        { padding, maxZoom: 16, animate, duration: 1200 },
      );
    } else {
      const zoom = Math.max(map.getZoom(), 16.5, (entry?.minzoom ?? 0) + 0.5);
      // An offset (not padding, which would stay on the map) keeps it clear of the sheets.
      const offset = [(padding.left - padding.right) / 2, (padding.top - padding.bottom) / 2];
      map.flyTo({ center: result.point, zoom, offset, animate, duration: 1200 });
    }
    if (result.layer === 'districts') {
      getJSON(`/collections/districts/items/${result.fid}`)
        .then((f) => this.openDashboard(f.properties.name))
        .catch(() => {});
    } else {
      // a street's hit stands for all its pieces: the card reads one, the highlight is all
      const line = /LineString/.test(this.catalogLayer(result.layer)?.geometry ?? '');
      const whole = line ? { label: result.label, bbox: result.bbox } : null;
      openCard(this, { layerId: result.layer, fid: result.fid, whole });
    }
  },
  /** Fit the map to a GeoJSON geometry, clear of the open panel and sheets. */
  fitGeometry(geometry, { maxZoom = 15 } = {}) {
    const coords = [];
    const walk = (c) => (typeof c[0] === 'number' ? coords.push(c) : c.forEach(walk));
    walk(geometry?.coordinates ?? []);
    if (!coords.length) return;
    const xs = coords.map((c) => c[0]);
    const ys = coords.map((c) => c[1]);
    this.map.fitBounds(
      [
        [Math.min(...xs), Math.min(...ys)],
        [Math.max(...xs), Math.max(...ys)],
      ],
      { padding: sheetPadding(), maxZoom, animate: !REDUCED_MOTION.matches, duration: 800 },
    );
  },
  saveState() {
    if (!this.map) return;
    writeHash({
      map: this.map,
      layers: this.entries.filter((e) => this.on.has(e.id)).map((e) => e.id),
      lang: lang(),
      date: this.date,
      district: dashboardDistrict(),
      ind: this.indicator !== 'density' ? this.indicator : null,
      extra: [['panel', this.panel === 'analysis' ? 'analysis' : null], ...(this.analyses?.hashEntries() || [])],
    });
  },
};
window.twin = app; // for the browser tests and for curious developers

function sheetPadding() {
  if (DESKTOP.matches) return { top: 60, bottom: 80, left: 340, right: 420 };
  return { top: 60, bottom: Math.round(window.innerHeight * 0.5), left: 20, right: 20 };
}

async function fetchStyleAndCatalog() {
  const [catalog, style] = await Promise.all([getJSON('/catalog'), getJSON('/style.json')]);
  return { catalog, style: prepareStyle(style, app.on) };
}

function setupStyle() {
  const { map } = app;
  addAppLayers(map, app.overview, app.catalog);
  const style = map.getStyle();
  app.baseFilters = Object.fromEntries(style.layers.map((l) => [l.id, l.filter]));
  app.entries = buildEntries(app.catalog, style);
  app.notClickable = notClickable(app.catalog);
  app.role = app.catalog.role;
  // The style's own all-years indicator polygons give way to the choropleth.
  for (const l of style.layers) {
    if (catalogIdOf(l) === 'district_indicators' && l.id !== 'twin-choropleth') {
      map.setLayoutProperty(l.id, 'visibility', 'none');
    }
  }
  for (const entry of app.entries) setVisible(map, entry.styleLayers, app.on.has(entry.id));
  localiseLabels(map);
  applyDateFilter(app);
  renderPanel(document.getElementById('layer-groups'), app);
  applyChoropleth(app);
  app.analyses?.addLayers(map);
  app.appealHexagons?.addLayers(map);
  app.participation?.addLayers(map);
  app.cityEvents?.addLayers(map);
}

async function loadStyle() {
  const { catalog, style } = await fetchStyleAndCatalog();
  app.catalog = catalog;
  setVocabulary(catalog);
  await new Promise((resolve) => {
    app.map.once('style.load', resolve);
    app.map.setStyle(style, { diff: false });
  });
  setupStyle();
  app.saveState();
}

function interactiveLayers() {
  return app.map
    .getStyle()
    .layers.filter((l) => {
      if (l.layout?.visibility === 'none' || l.id.startsWith('twin-selection')) return false;
      if (l.id === 'twin-districts-hit' || l.id === 'twin-choropleth') return false;
      const id = catalogIdOf(l);
      return id && !app.notClickable.has(id);
    })
    .map((l) => l.id);
}

function onMapClick(e) {
  const { map } = app;
  // An analysis tool (isochrone, polygon) or layer takes the click before the city's layers.
  if (app.analyses?.handleClick(e)) return;
  if (app.participation?.handleClick(e)) return;
  if (app.budget?.handleClick(e)) return; // a point picked for a budget application
  if (app.appeals?.handleClick(e)) return;
  if (app.cityEvents?.handleClick(e)) return;
  const layers = interactiveLayers();
  const r = 5;
  const box = [
    [e.point.x - r, e.point.y - r],
    [e.point.x + r, e.point.y + r],
  ];
  const small = map.queryRenderedFeatures(box, { layers }).filter((f) => f.layer.type === 'circle' || f.layer.type === 'line');
  const exact = map.queryRenderedFeatures(e.point, { layers });
  const f = [...small, ...exact][0];
  if (f) {
    const styleLayer = map.getLayer(f.layer.id);
    let layerId = catalogIdOf(map.getStyle().layers.find((l) => l.id === f.layer.id) || f.layer) || f.sourceLayer;
    if (styleLayer?.metadata?.['twin:of']) layerId = styleLayer.metadata['twin:of'];
    const aggregate = f.properties && 'h3' in f.properties && 'count' in f.properties;
    openCard(app, {
      layerId,
      fid: aggregate ? null : f.id,
      properties: { ...f.properties },
      geometry: f.geometry,
      focus: false,
      aggregateLabel: aggregate && layerId === 'appeals' ? t('appeals.count') : null,
    });
    return;
  }
  const district = map.queryRenderedFeatures(e.point, { layers: ['twin-districts-hit'] })[0];
  if (district?.properties?.name) app.openDashboard(district.properties.name);
  else {
    closeCard(app, { keepFocus: true });
  }
}

const PANELS = {
  layers: ['panel', 'panel-toggle', 'panel-close'],
  analysis: ['analysis-panel', 'analysis-toggle', 'analysis-close'],
  budget: ['budget-panel', 'budget-toggle', 'budget-close'],
};

/** Open one side panel ('layers' or 'analysis') and close the other; null closes both. */
function showPanel(which) {
  for (const [name, [panelId, toggleId]] of Object.entries(PANELS)) {
    const on = name === which;
    document.getElementById(panelId).classList.toggle('open', on);
    document.getElementById(toggleId).setAttribute('aria-expanded', String(on));
  }
  app.panel = which;
  app.budget?.shown(which === 'budget'); // the cycle's projects drawn while the panel is open
  app.saveState();
}

function setupChrome() {
  const asked = hashState.params?.get('panel');
  const wanted = asked in PANELS ? asked : 'layers';
  showPanel(DESKTOP.matches ? wanted : null);
  DESKTOP.addEventListener('change', (e) => showPanel(e.matches ? app.panel || 'layers' : null));
  for (const [name, [panelId, toggleId, closeId]] of Object.entries(PANELS)) {
    const panel = document.getElementById(panelId);
    const toggle = document.getElementById(toggleId);
    toggle.addEventListener('click', () => {
      const open = app.panel !== name;
      showPanel(open ? name : null);
      if (open) panel.querySelector('summary, input, select, button')?.focus();
    });
    document.getElementById(closeId).addEventListener('click', () => {
      showPanel(null);
      toggle.focus();
    });
  }
  app.openPanel = (name) => showPanel(name);
  app.closePanels = () => showPanel(null);
  const langSelect = document.getElementById('lang-select');
  langSelect.value = lang();
  langSelect.addEventListener('change', () => setLang(langSelect.value));
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape' || e.target.id === 'search-input') return;
    if (!document.getElementById('card').hidden) closeCard(app);
    else if (!document.getElementById('dashboard').hidden) app.closeDashboard();
    else if (app.analyses?.closeTool()) return;
    else if (!DESKTOP.matches && app.panel) {
      const toggle = document.getElementById(PANELS[app.panel][1]);
      showPanel(null);
      toggle.focus();
    }
  });
}

async function start() {
  setupChrome();
  const view = initialView(hashState);
  // The map starts loading tiles as soon as the style and the catalog (which says which
  // layers are on at start) are here; the districts' figures arrive meanwhile.
  const overview = getJSON('/api/districts').catch(() => null);
  const [catalog, rawStyle] = await Promise.all([getJSON('/catalog'), getJSON('/style.json')]);
  app.catalog = catalog;
  setVocabulary(catalog);
  if (!hashState.layers) app.on = new Set(defaultOn(catalog));
  app.map = createMap('map', { ...view, style: prepareStyle(rawStyle, app.on) });
  localiseControls(app.map, { m: unit('m'), km: unit('km') });
  app.appealHexagons = setupAppealHexagons(app);
  const styleLoaded = new Promise((resolve) => app.map.once('style.load', resolve));
  app.overview = await overview;
  await styleLoaded;
  setupStyle();
  app.analyses = setupAnalyses(app, hashState.params);
  app.analyses.addLayers(app.map);
  app.timeline = setupTimeline(app);
  app.cityEvents = setupCityEvents(app);
  app.budget = setupBudget(app);
  app.search = setupSearch(app);
  app.guide = setupGuide(app, { fresh: FRESH_VISIT });
  app.analyses.start();
  app.participation = setupParticipation(app);
  await app.participation.start();
  app.appeals = setupAppeals(app);
  startLive(); // the one live stream, for every panel's topics (live.js)
  if (hashState.district) openDashboard(app, hashState.district, { focus: false });
  app.saveState();
  app.map.once('idle', () => {
    document.body.dataset.ready = 'true';
  });
  // The sources' credits stay one (i) button away: the long line would run under the panels.
  document.querySelector('.maplibregl-ctrl-attrib')?.classList.remove('maplibregl-compact-show');
  app.map.on('moveend', () => app.saveState());
  app.map.on('click', onMapClick);
  // a double-click closes an area drawn for a budget application (its zoom is off meanwhile)
  app.map.on('dblclick', (e) => {
    if (app.budget?.handleDoubleClick?.()) e.preventDefault();
  });
  app.map.on('mousemove', (e) => {
    if (!app.entries.length) return;
    if (app.analyses?.toolActive()) {
      app.map.getCanvas().style.cursor = 'crosshair';
      return;
    }
    const layers = [
      ...interactiveLayers(),
      ...(app.analyses?.hoverLayers() || []),
      ...(app.participation?.hoverLayers() || []),
      ...(app.cityEvents?.hoverLayers() || []),
    ];
    const hit = app.map.queryRenderedFeatures(e.point, { layers }).length;
    app.map.getCanvas().style.cursor = hit ? 'pointer' : '';
  });
  onLangChange(() => {
    document.getElementById('lang-select').value = lang();
    localiseLabels(app.map);
    localiseControls(app.map, { m: unit('m'), km: unit('km') });
    renderPanel(document.getElementById('layer-groups'), app);
    applyChoropleth(app);
    rerenderCard(app);
    rerenderDashboard(app);
    app.timeline?.rerender();
    app.search?.rerender();
    app.guide?.rerender();
    app.analyses?.rerender();
    app.participation?.rerender();
    app.saveState();
  });
  window.addEventListener('hashchange', () => {
    const s = readHash();
    if (s.lang) setLang(s.lang);
    if (s.zoom !== undefined) app.map.jumpTo(initialView(s));
    if (s.layers) {
      for (const e of app.entries) app.toggle(e.id, s.layers.includes(e.id));
    }
    if ((s.date || null) !== app.date) app.timeline?.set(s.date || null);
  });
}

start().catch((e) => {
  document.body.dataset.ready = 'error';
  const notice = document.getElementById('notice');
  const p = document.createElement('p');
  p.className = 'error';
  p.setAttribute('role', 'alert');
  p.textContent = `${e.message}`;
  notice.prepend(p);
  throw e;
});
