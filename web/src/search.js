// Search with suggestions (an ARIA combobox over /api/search): choosing a result flies there,
// turns its layer on and opens its card (or the dashboard for a district).

import { getJSON } from './api.js';
import { lang, t } from './i18n.js';
import { h } from './panel.js';

const MIN_CHARS = 2;
const DEBOUNCE_MS = 160;

export function setupSearch(app) {
  const input = document.getElementById('search-input');
  const list = document.getElementById('search-list');
  const status = document.getElementById('search-status');
  let results = [];
  let active = -1;
  let timer = 0;
  let controller = null;

  function close() {
    list.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
    active = -1;
  }

  function highlight(i) {
    active = i;
    for (const [j, li] of [...list.children].entries()) li.setAttribute('aria-selected', String(j === i));
    if (i >= 0 && list.children[i]) {
      input.setAttribute('aria-activedescendant', list.children[i].id);
      list.children[i].scrollIntoView({ block: 'nearest' });
    } else {
      input.removeAttribute('aria-activedescendant');
    }
  }

  function render() {
    list.replaceChildren();
    if (!results.length) {
      list.append(h('li', { class: 'search-empty', role: 'option', 'aria-disabled': 'true', id: 'search-none', text: t('search.none') }));
    }
    results.forEach((r, i) => {
      const entry = app.entries.find((e) => e.id === r.layer);
      const layerTitle = entry ? entry.title() : r.layer;
      list.append(
        h(
          'li',
          {
            id: `search-opt-${i}`,
            role: 'option',
            'aria-selected': 'false',
            'data-id': r.id,
            onmousedown: (e) => e.preventDefault(),
            onclick: () => choose(i),
          },
          h('span', { class: 'opt-label', text: r.label }),
          h('span', {
            class: 'opt-detail',
            text: [layerTitle, r.detail, r.synthetic ? t('demo.badge') : null].filter(Boolean).join(' · '),
          }),
        ),
      );
    });
    list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
    status.textContent = results.length ? t('search.count', { n: results.length }) : t('search.none');
    highlight(-1);
  }

  async function query(q) {
    controller?.abort();
    controller = new AbortController();
    try {
      const body = await getJSON('/api/search', { q, lang: lang(), limit: 8 }, { signal: controller.signal });
      if (input.value.trim() !== q) return;
      results = body.results;
      render();
    } catch (e) {
      if (e.name !== 'AbortError') {
        results = [];
        render();
      }
    }
  }

  function choose(i) {
    const r = results[i];
    if (!r) return;
    input.value = r.label;
    // chosen: coming back to the box (closing the card) must not open the list again
    results = [];
    close();
    app.goTo(r);
  }

  input.addEventListener('input', () => {
    clearTimeout(timer);
    const q = input.value.trim();
    if (q.length < MIN_CHARS) {
      results = [];
      close();
      return;
    }
    timer = setTimeout(() => query(q), DEBOUNCE_MS);
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown' && results.length) {
      e.preventDefault();
      if (list.hidden) render();
      highlight((active + 1) % results.length);
    } else if (e.key === 'ArrowUp' && results.length) {
      e.preventDefault();
      highlight(active <= 0 ? results.length - 1 : active - 1);
    } else if (e.key === 'Enter') {
      if (results.length) {
        e.preventDefault();
        choose(active >= 0 ? active : 0);
      }
    } else if (e.key === 'Escape') {
      close();
    }
  });
  input.addEventListener('blur', () => setTimeout(close, 120));
  input.addEventListener('focus', () => {
    if (results.length && input.value.trim().length >= MIN_CHARS) render();
  });
  return { rerender: () => !list.hidden && render() };
}
