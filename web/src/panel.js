// The layer panel: groups by programme module, an on/off switch and a legend per layer, the
// choropleth and dashboard pickers for districts, and the planner key for cameras.

import { t, title as tr } from './i18n.js';
import { formatNumber } from './format.js';
import { entriesByModule } from './layers.js';

function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
}
export { h };

function swatch(item) {
  const style =
    item.kind === 'line'
      ? `background:${item.color};${item.color.toLowerCase() === '#ffffff' ? 'box-shadow:0 0 0 1px #8a8a8a;' : ''}`
      : `background:${item.color};${item.outline ? `box-shadow:inset 0 0 0 2px ${item.outline};` : ''}`;
  return h('span', { class: `swatch swatch-${item.kind}`, style, 'aria-hidden': 'true' });
}

/** The legend of fixed hexagon classes: each class's counts ("fewer than 10", "10–19", …,
 * "500 or more") beside its colour as drawn (its opacity over the page), and that the
 * colours mean the same counts whatever the filter. */
function classLegend(entry, classes) {
  const label = (i) => {
    const next = classes[i + 1]?.[0];
    if (i === 0) return t('legend.fewer', { n: formatNumber(next, 0) });
    if (next === undefined) return t('legend.orMore', { n: formatNumber(classes[i][0], 0) });
    return `${formatNumber(classes[i][0], 0)}–${formatNumber(next - 1, 0)}`;
  };
  return [
    ...classes.map(([from, color, opacity], i) =>
      h(
        'li',
        { 'data-class-from': String(from), 'data-color': color, 'data-opacity': String(opacity) },
        h('span', { class: 'swatch swatch-fill', style: `background:${color};opacity:${opacity}`, 'aria-hidden': 'true' }),
        h('span', { text: label(i) }),
      ),
    ),
    h('li', { class: 'hint legend-note', 'data-hexagons-note': entry.id }, h('span', { text: t('legend.classes.same') })),
  ];
}

/** The legend of a layer's H3 counts: what a hexagon is, and its colours (1 and 100+, or its
 * fixed classes). */
function hexagonLegend(entry) {
  const hx = entry.hexagons;
  if (!hx?.ramp && !hx?.classes) return [];
  const head = hx.maxzoom ? t('legend.hexagons', { z: hx.maxzoom }) : t('legend.hexagons.always');
  const top = h('li', { class: 'legend-head', 'data-hexagons': entry.id }, h('span', { text: head }));
  if (hx.classes?.length) return [top, ...classLegend(entry, hx.classes)];
  const [[, lo], [, hi]] = hx.ramp;
  return [
    top,
    h('li', {}, swatch({ kind: 'fill', color: lo }), h('span', { text: t('legend.one') })),
    h('li', {}, swatch({ kind: 'fill', color: hi }), h('span', { text: t('legend.hundred') })),
  ];
}

function legend(app, entry) {
  const hexagons = hexagonLegend(entry);
  if (entry.legend.length <= 1 && !hexagons.length) return null;
  const items = entry.legend.length > 1 ? entry.legend : [];
  return h(
    'ul',
    { class: 'legend', 'aria-label': `${t('layers')}: ${entry.title()}`, hidden: !app.isOn(entry.id) },
    items.map((item) => h('li', {}, swatch(item), h('span', { text: item.label() }))),
    hexagons,
  );
}

function layerRow(app, entry) {
  const id = `layer-${entry.id}`;
  const input = h('input', {
    type: 'checkbox',
    id,
    checked: app.isOn(entry.id),
    'data-layer': entry.id,
    onchange: (e) => app.toggle(entry.id, e.target.checked),
  });
  const single = entry.legend.length === 1 ? swatch(entry.legend[0]) : null;
  const zoomHint =
    entry.minzoom && entry.minzoom > 10
      ? h('span', { class: 'hint', text: t('zoom.hint', { z: entry.minzoom }) })
      : null;
  return h(
    'li',
    { class: 'layer' },
    h('div', { class: 'layer-row' }, input, h('label', { for: id }, single, h('span', { text: entry.title() })), zoomHint),
    entry.note ? h('p', { class: 'hint', text: entry.note() }) : null,
    legend(app, entry),
  );
}

function choroplethControls(app) {
  const ov = app.overview;
  if (!ov) return null;
  const select = h(
    'select',
    {
      id: 'choropleth-select',
      onchange: (e) => app.setIndicator(e.target.value),
    },
    ov.indicators.map((ind) =>
      h('option', { value: ind.name, selected: ind.name === app.indicator, text: app.indicatorTitle(ind) }),
    ),
  );
  const districtSelect = h(
    'select',
    { id: 'district-select' },
    h('option', { value: '', text: t('dash.choose.placeholder') }),
    ov.districts.map((d) => h('option', { value: d.name, text: app.districtName(d.name) })),
  );
  return h(
    'div',
    { class: 'group-extra' },
    h('label', { for: 'choropleth-select', text: t('choropleth.label') }),
    select,
    h('div', { id: 'choropleth-legend', class: 'choropleth-legend' }),
    h('label', { for: 'district-select', text: t('dash.choose') }),
    h(
      'div',
      { class: 'inline' },
      districtSelect,
      h('button', {
        type: 'button',
        class: 'btn btn-small',
        text: t('dash.open'),
        onclick: () => districtSelect.value && app.openDashboard(districtSelect.value),
      }),
    ),
  );
}

/**
 * The staff key form (or, signed in, who you are and a sign-out button). Planners looked for it
 * at the bottom of the layer panel only (issue 15, item 10): it is also in the account box
 * and in the analysis panel's camera coverage section, each with its own `id`.
 */
export function keyForm(app, { id = 'planner-key', cls = 'key-form', intro = () => t('cameras.locked') } = {}) {
  const status = h('p', { class: 'hint', role: 'status', 'aria-live': 'polite' });
  if (app.role === 'planner' || app.role === 'admin') {
    status.textContent = t('key.ok', { role: t(`role.${app.role}`) });
    return h(
      'div',
      { class: 'group-extra' },
      status,
      h('button', { type: 'button', class: 'btn btn-small', text: t('key.signout'), onclick: () => app.signOut() }),
    );
  }
  const input = h('input', { id, type: 'password', autocomplete: 'off', spellcheck: 'false' });
  return h(
    'form',
    {
      class: `group-extra ${cls}`,
      onsubmit: async (e) => {
        e.preventDefault();
        status.textContent = t('key.status.checking');
        const ok = await app.signIn(input.value.trim());
        if (!ok) status.textContent = t('key.invalid');
      },
    },
    h('p', { class: 'hint', text: intro() }),
    h('label', { for: id, text: t('key.label') }),
    h('div', { class: 'inline' }, input, h('button', { type: 'submit', class: 'btn btn-small', text: t('key.submit') })),
    status,
  );
}

/** Render the whole panel into `root` (again after a language change or sign-in). */
export function renderPanel(root, app) {
  const open = new Set([...root.querySelectorAll('details[open]')].map((d) => d.dataset.module));
  const first = !root.childElementCount;
  root.replaceChildren();
  for (const { id: module, title, entries } of entriesByModule(app.entries, app.catalog.modules)) {
    const extra =
      module === 'district_indicators' ? choroplethControls(app) : module === 'cameras' ? keyForm(app) : null;
    if (!entries.length && !extra) continue;
    // the residents' filter of the appeal hexagons (appeals-public.js): not a reason to open
    // the group at first, as the other extras are
    const appealFilter = module === 'appeals' ? (app.appealHexagons?.controls() ?? null) : null;
    const appealsNote =
      module === 'appeals' && entries.some((e) => e.aggregate) ? h('p', { class: 'hint', text: t('appeals.note') }) : null;
    // At first only the groups with something on the map are open: a calm panel whose
    // legends say what is drawn; the rest is one click away.
    const isOpen = first ? module !== 'basemap' && (Boolean(extra) || entries.some((e) => app.isOn(e.id))) : open.has(module);
    root.append(
      h(
        'details',
        { class: 'group', 'data-module': module, open: isOpen },
        h('summary', {}, h('span', { text: title ? tr(title) : module })),
        h('ul', { class: 'layers' }, entries.map((e) => layerRow(app, e))),
        appealsNote,
        appealFilter,
        extra,
      ),
    );
  }
}

/** Remember the values of the inputs and selects under `box` matching `selector` (by id) and
 * return a function that puts them back after `box` is re-rendered: a staff list reloaded by
 * the live stream keeps what staff were typing. */
export function keepValues(box, selector) {
  const kept = new Map([...box.querySelectorAll(selector)].filter((e) => e.id).map((e) => [e.id, e.value]));
  const focused = box.contains(document.activeElement) ? document.activeElement.id : '';
  return () => {
    for (const [id, value] of kept) {
      const e = document.getElementById(id);
      if (e && box.contains(e)) e.value = value;
    }
    if (focused) document.getElementById(focused)?.focus();
  };
}
