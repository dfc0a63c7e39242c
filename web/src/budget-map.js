// The budget panel's map (issue 17): while the panel is open the map draws the selected
// cycle's projects only — the `budget_cycle_projects` layer, written by the server from the
// cycles (twin/budget/layer.py), so what the map, its legend and the time slider show is the
// cycles' own state (application … won, lost … done) — and fits the view to them once per
// cycle. A project in the panel's lists opens its feature card (ratings included) as a click on
// the map does. Closing the panel draws every cycle's projects again (and switches the layer
// off if the panel was what switched it on).

import { getJSON } from './api.js';
import { openCard } from './card.js';

export const CYCLE_LAYER = 'budget_cycle_projects';

export function cycleMap(app) {
  let switchedOn = false;
  let fitted = null; // the cycle the view was last fitted to

  return {
    /** Draw `cycle`'s projects only, fitting the view to `projects` ({lon, lat}) the first
     * time this cycle is shown. */
    show(cycle, projects) {
      if (!app.map || !app.entries.some((e) => e.id === CYCLE_LAYER)) return;
      if (!app.isOn(CYCLE_LAYER)) {
        app.toggle(CYCLE_LAYER, true);
        switchedOn = true;
      }
      app.filterLayer(CYCLE_LAYER, ['==', ['get', 'cycle_id'], cycle.id]);
      if (fitted !== cycle.id && projects.length) {
        fitted = cycle.id;
        app.fitGeometry({ type: 'MultiPoint', coordinates: projects.map((p) => [p.lon, p.lat]) }, { maxZoom: 15 });
      }
    },
    /** Every cycle's projects again (the panel closed). */
    clear() {
      fitted = null;
      if (!app.map) return;
      app.filterLayer(CYCLE_LAYER, null);
      if (switchedOn) app.toggle(CYCLE_LAYER, false);
      switchedOn = false;
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
