// The budget panel's map (issue 17): while the panel is open the map draws the selected
// cycle's projects only — the `budget_cycle_projects` layer (a point per project) and
// `budget_cycle_areas` (the ground of the projects located by an area), written by the server
// from the cycles (etl/budget_layer.py), so what the map, its legend and the time slider show is the
// cycles' own state (application … won, lost … done) — and fits the view to them once per
// cycle. A project in the panel's lists opens its feature card (ratings included) as a click on
// the map does. Closing the panel draws every cycle's projects again (and switches the layer
// off if the panel was what switched it on).

import { getJSON } from './api.js';
import { openCard } from './card.js';

export const CYCLE_LAYER = 'budget_cycle_projects';
/** The areas of the projects located by one (drawn under the points, filtered with them). */
export const AREA_LAYER = 'budget_cycle_areas';
const LAYERS = [AREA_LAYER, CYCLE_LAYER];

export function cycleMap(app) {
  const switchedOn = new Set(); // the layers the panel switched on (it switches them off again)
  let fitted = null; // the cycle the view was last fitted to

  return {
    /** Draw `cycle`'s projects only, fitting the view to `projects` ({lon, lat}) the first
     * time this cycle is shown. */
    show(cycle, projects) {
      if (!app.map || !app.entries.some((e) => e.id === CYCLE_LAYER)) return;
      const mine = LAYERS.filter((id) => app.entries.some((e) => e.id === id));
      for (const id of mine) {
        if (app.isOn(id)) continue;
        app.toggle(id, true);
        switchedOn.add(id);
      }
      for (const id of mine) app.filterLayer(id, ['==', ['get', 'cycle_id'], cycle.id]);
      if (fitted !== cycle.id && projects.length) {
        fitted = cycle.id;
        app.fitGeometry({ type: 'MultiPoint', coordinates: projects.map((p) => [p.lon, p.lat]) }, { maxZoom: 15 });
      }
    },
    /** Every cycle's projects again (the panel closed). */
    clear() {
      fitted = null;
      if (!app.map) return;
      for (const id of LAYERS.filter((x) => app.entries.some((e) => e.id === x))) {
        app.filterLayer(id, null);
        if (switchedOn.has(id)) app.toggle(id, false);
      }
      switchedOn.clear();
    },
    /** Fetch the cycle layers' tiles again (an application was sent or reviewed, a phase
     * moved): the server answers a changed tile anew (its ETag moved), an unchanged one 304. */
    reload() {
      if (!app.map) return;
      const sources = new Set();
      for (const e of app.entries.filter((x) => LAYERS.includes(x.id))) {
        for (const id of e.styleLayers || []) {
          const source = app.map.getLayer(id)?.source;
          if (source) sources.add(source);
        }
      }
      for (const id of sources) {
        const src = app.map.getSource(id);
        if (src?.setTiles && src.tiles) src.setTiles([...src.tiles]);
      }
    },
    /** Open project `id`'s feature card, as a click on it on the map would. */
    async open(id) {
      const found = await getJSON(`/collections/${CYCLE_LAYER}/items`, { project_id: id, limit: 1 });
      const f = found.features?.[0];
      if (!f) return;
      await openCard(app, { layerId: CYCLE_LAYER, fid: f.id, properties: f.properties, geometry: f.geometry });
    },
  };
}
