// Small pieces the analysis sections share: redrawing a section without losing the focus, a
// status line (busy, an API error's detail), a section's request where only the latest counts,
// and where analysis layers go in the style.

import { t } from './i18n.js';
import { h } from './panel.js';

/** Keep the focus on the same control (by id) when a section is drawn again. */
export function renderInto(root, ...children) {
  const focused = root.contains(document.activeElement) ? document.activeElement.id : null;
  root.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  if (focused) document.getElementById(focused)?.focus();
}

/** A status line for a section: busy, an API error's `detail`, or a note. */
export function statusLine(id, { busy = false, error = null, note = null } = {}) {
  if (error) return h('p', { id, class: 'error', role: 'alert', text: error });
  return h(
    'p',
    { id, class: busy ? 'hint busy' : 'hint', role: 'status', 'aria-live': 'polite' },
    busy ? h('span', { class: 'spinner', 'aria-hidden': 'true' }) : null,
    busy ? (typeof busy === 'string' ? busy : t('an.busy')) : note || '',
  );
}

export function errorText(e) {
  if (e?.name === 'AbortError') return null;
  return e?.body?.detail || e?.message || t('error.load');
}

/** A section's requests where only the latest counts. `run(ask, take)` marks the section busy
 * (`state.busy`, `state.error`) and draws it (`redraw`), awaits `ask()`, gives the answer to
 * `take` or the error's text to `state.error`, and draws it again; `fail(text)` shows an error
 * of the section's own (an export that failed); `forget(more)` empties `state.data` (and sets
 * `more`) for a sign-out. An answer that comes after a newer `run` or a
 * `forget` is dropped: a late answer to an older question must not overwrite the newer one, nor
 * bring back what a sign-out took off the page. */
export function latestOnly(state, redraw) {
  let clock = 0;
  return {
    async run(ask, take) {
      const asked = ++clock;
      Object.assign(state, { busy: true, error: null });
      redraw();
      try {
        const answer = await ask();
        if (asked !== clock) return;
        take(answer);
      } catch (e) {
        if (asked !== clock) return;
        state.error = errorText(e);
      }
      state.busy = false;
      redraw();
    },
    fail(text) {
      state.error = text;
      redraw();
    },
    forget(more = {}) {
      clock++;
      Object.assign(state, { data: null, busy: false, error: null, ...more });
    },
  };
}

/** Where analysis fills go: under the point layers and labels of the base style. */
export function fillsBefore(map) {
  return map.getStyle().layers.find((l) => l.type === 'circle' || l.type === 'symbol')?.id;
}

/** Where analysis lines and points go: over the base style, under the selection outline. */
export function overBefore(map) {
  return map.getLayer('twin-selection-fill') ? 'twin-selection-fill' : undefined;
}

/** The current view as [west, south, east, north]. */
export function viewBbox(map) {
  const b = map.getBounds();
  return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()];
}

/** The mean of a polygon's outer ring (a hexagon's centre), as [lon, lat]. */
export function ringCentre(geometry) {
  const ring = geometry?.type === 'Polygon' ? geometry.coordinates[0].slice(0, -1) : null;
  if (!ring?.length) return null;
  return [ring.reduce((a, c) => a + c[0], 0) / ring.length, ring.reduce((a, c) => a + c[1], 0) / ring.length];
}
