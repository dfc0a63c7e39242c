// The analysis panel: walking access (isochrones, access by category, school load), business
// site selection and, for planners, camera coverage. Each section is its own module drawing
// its own GeoJSON layers; this file holds what they share: the panel, the map tool that takes
// over clicks (isochrone, polygon drawing), clicks on analysis layers, and their URL keys.

import { createAccess } from './access.js';
import { createAppealHotspots } from './appeal-hotspots.js';
import { createAppealForecast, createAppealStats, createPeriod } from './appeal-staff.js';
import { createBusiness } from './business.js';
import { createCoverage } from './coverage.js';
import { renderInto } from './analysis-ui.js';
import { t } from './i18n.js';
import { createIsochrone } from './isochrone.js';
import { h } from './panel.js';
import { createSchools } from './schools.js';

const PHONE = window.matchMedia('(max-width: 899px)');

export function setupAnalyses(app, params) {
  const body = document.getElementById('analysis-groups');
  const toolbar = h('div', { id: 'map-tool', class: 'map-tool', role: 'region', hidden: true });
  // Right after the map in the tab order: the map (arrow keys pan it), then the tool's buttons.
  document.getElementById('map').after(toolbar);
  let tool = null;

  const ctx = {
    app,
    get map() {
      return app.map;
    },
    save: () => app.saveState(),
    tool: () => tool,
    /** Make `next` ({name, hint(), controls(), click(lngLat), exit()}) take over map clicks. */
    setTool(next) {
      if (tool && tool !== next) tool.exit?.();
      tool = next;
      renderTool();
      app.map.getCanvas().style.cursor = tool ? 'crosshair' : '';
      if (tool && PHONE.matches) app.closePanels?.();
      for (const s of sections) s.rerender?.();
    },
    isochroneFrom: (origin) => isochrone.open(origin),
    closeTool() {
      if (!tool) return false;
      ctx.setTool(null);
      return true;
    },
    rerenderTool: () => renderTool(),
  };

  const isochrone = createIsochrone(ctx);
  const access = createAccess(ctx);
  const schools = createSchools(ctx);
  const business = createBusiness(ctx);
  const coverage = createCoverage(ctx);
  // appeals analytics for staff: the summary and the hot spots over one period
  const appealPeriod = createPeriod();
  const appealStats = createAppealStats(ctx, appealPeriod);
  const appealHotspots = createAppealHotspots(ctx, appealPeriod);
  const appealForecast = createAppealForecast(ctx);
  const appealParts = [appealStats, appealHotspots, appealForecast];
  const sections = [isochrone, access, schools, business, coverage, ...appealParts];
  const groups = [
    { id: 'access', title: () => t('an.group.access'), parts: [isochrone, access] },
    { id: 'schools', title: () => t('an.group.schools'), parts: [schools] },
    { id: 'business', title: () => t('an.group.business'), parts: [business] },
    { id: 'coverage', title: () => t('an.group.coverage'), parts: [coverage] },
    { id: 'appeals', title: () => t('an.group.appeals'), parts: appealParts },
  ];

  function renderTool() {
    if (!tool) {
      toolbar.hidden = true;
      toolbar.replaceChildren();
      return;
    }
    toolbar.setAttribute('aria-label', tool.title());
    renderInto(
      toolbar,
      h('p', { class: 'map-tool-hint', role: 'status', 'aria-live': 'polite', text: tool.hint() }),
      h('div', { class: 'map-tool-controls' }, tool.controls?.() || [], h('button', {
        id: 'map-tool-exit',
        type: 'button',
        class: 'btn btn-small',
        text: tool.exitLabel?.() || t('an.tool.exit'),
        onclick: () => ctx.setTool(null),
      })),
    );
    toolbar.hidden = false;
  }

  // Every group starts open; a group the user folds stays folded across re-renders.
  const folded = new Set();

  function render() {
    body.replaceChildren();
    for (const g of groups) {
      if (g.parts.every((p) => p.hidden?.())) continue;
      const details = h(
        'details',
        { class: 'group', 'data-group': g.id, open: !folded.has(g.id) },
        h('summary', {}, h('span', { text: g.title() })),
      );
      details.addEventListener('toggle', () => (details.open ? folded.delete(g.id) : folded.add(g.id)));
      for (const part of g.parts) {
        if (part.hidden?.()) continue;
        const root = h('div', { class: 'group-extra analysis', id: `an-${part.id}` });
        details.append(root);
        part.mount(root);
      }
      body.append(details);
    }
  }

  for (const s of sections) s.applyHash?.(params);
  render();

  return {
    /** Called after every style load: the analysis sources and layers, with their data. */
    addLayers(map) {
      for (const s of sections) s.addLayers(map);
    },
    /** A click on the map: the active tool or an analysis layer may take it. */
    handleClick(e) {
      if (tool) {
        tool.click(e.lngLat, e);
        return true;
      }
      const { map } = app;
      const r = 5;
      const box = [
        [e.point.x - r, e.point.y - r],
        [e.point.x + r, e.point.y + r],
      ];
      for (const s of sections) {
        const layers = (s.clickLayers?.() || []).filter((id) => map.getLayer(id) && map.getLayoutProperty(id, 'visibility') !== 'none');
        if (!layers.length) continue;
        const points = map.queryRenderedFeatures(box, { layers }).filter((f) => f.layer.type === 'circle');
        const hit = points[0] || map.queryRenderedFeatures(e.point, { layers })[0];
        if (hit) {
          s.openFeature(hit, e.lngLat);
          return true;
        }
      }
      return false;
    },
    hoverLayers() {
      if (tool) return [];
      return sections.flatMap((s) => s.clickLayers?.() || []).filter((id) => app.map.getLayer(id));
    },
    hashEntries() {
      return sections.flatMap((s) => s.hash?.() || []);
    },
    /** The panel and the map after a language change or a new role (sign-in, sign-out). */
    rerender() {
      render();
      renderTool();
    },
    roleChanged() {
      coverage.roleChanged();
      business.roleChanged();
      for (const part of appealParts) part.roleChanged();
      render();
    },
    /** Extra buttons for a feature card: an isochrone from schools, clinics and bus stops. */
    cardActions(card) {
      if (!['schools', 'health', 'bus_stops'].includes(card.layerId) || card.fid === null || card.fid === undefined) return null;
      const name = card.properties?.name || null;
      return h('button', {
        id: 'card-isochrone',
        type: 'button',
        class: 'btn btn-small',
        text: t('iso.from_here'),
        onclick: () => isochrone.open({ layer: card.layerId, fid: card.fid, name }),
      });
    },
    closeTool: () => ctx.closeTool(),
    toolActive: () => Boolean(tool),
    /** Run what the URL asked for (an isochrone, a layer, a ranking) once the map is ready. */
    start() {
      for (const s of sections) s.start?.();
    },
    isochrone,
    access,
    schools,
    business,
    coverage,
    appealStats,
    appealHotspots,
    appealForecast,
  };
}
