// The layer panel: groups by programme module, an on/off switch and a legend per layer, the
// choropleth and dashboard pickers for districts, and the planner key for cameras.

import { t, title as tr } from './i18n.js';
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

function legend(app, entry) {
  if (entry.legend.length <= 1 && !entry.aggregate) return null;
  return h(
    'ul',
    { class: 'legend', 'aria-label': `${t('layers')}: ${entry.title()}`, hidden: !app.isOn(entry.id) },
    entry.legend.map((item) => h('li', {}, swatch(item), h('span', { text: item.label() }))),
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
  const single = entry.legend.length === 1 && !entry.aggregate ? swatch(entry.legend[0]) : null;
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

function keyForm(app) {
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
  const input = h('input', { id: 'planner-key', type: 'password', autocomplete: 'off', spellcheck: 'false' });
  return h(
    'form',
    {
      class: 'group-extra key-form',
      onsubmit: async (e) => {
        e.preventDefault();
        status.textContent = t('key.status.checking');
        const ok = await app.signIn(input.value.trim());
        if (!ok) status.textContent = t('key.invalid');
      },
    },
    h('p', { class: 'hint', text: t('cameras.locked') }),
    h('label', { for: 'planner-key', text: t('key.label') }),
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
