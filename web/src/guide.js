// The first-visit guide: what the map is for and what to do first, in the interface language.
// Shown once, to a visit that opens the bare address (a shared link with a view goes straight
// to it); "Got it" remembers the choice in localStorage; the "?" button in the header shows
// it again (desktop). It is a region over the map, not a modal: searching, opening a panel or
// clicking the map puts it away.

import { t } from './i18n.js';
import { h } from './panel.js';

const SEEN = 'twin.guide.seen';
const PHONE = window.matchMedia('(max-width: 899px)');

function seen() {
  try {
    return localStorage.getItem(SEEN) === '1';
  } catch {
    return false;
  }
}

export function setupGuide(app, { fresh }) {
  const root = document.getElementById('guide');
  const again = document.getElementById('guide-open');

  function render() {
    if (root.hidden) return;
    root.replaceChildren(
      h('h2', { id: 'guide-title', text: t('guide.title') }),
      h('p', { text: t('guide.lead') }),
      h(
        'ol',
        { class: 'guide-steps' },
        ['guide.search', 'guide.click', 'guide.layers', 'guide.time'].map((k) => h('li', { text: t(k) })),
      ),
      h('p', { class: 'hint', text: t('guide.demo') }),
      h('p', { class: 'hint', text: t('guide.planner') }),
      h('button', { type: 'button', id: 'guide-close', class: 'btn btn-primary', text: t('guide.ok'), onclick: () => close() }),
    );
  }

  function open() {
    root.hidden = false;
    render();
    document.getElementById('guide-close')?.focus();
  }

  function close({ focus = true } = {}) {
    if (root.hidden) return;
    root.hidden = true;
    try {
      localStorage.setItem(SEEN, '1');
    } catch {
      /* private mode: shown again next time */
    }
    if (!focus) return;
    if (!PHONE.matches) document.getElementById('search-input')?.focus();
    else again?.focus();
  }

  again?.addEventListener('click', () => (root.hidden ? open() : close()));
  // Someone who starts searching, opens a panel or clicks the map has found their way.
  const quietly = () => close({ focus: false });
  document.getElementById('search-input')?.addEventListener('input', quietly);
  for (const id of ['panel-toggle', 'analysis-toggle', 'budget-toggle']) document.getElementById(id)?.addEventListener('click', quietly);
  app.map.on('click', quietly);
  root.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      e.stopPropagation();
      close();
    }
  });
  root.hidden = !(fresh && !seen());
  render();
  return { rerender: render, open, close };
}
