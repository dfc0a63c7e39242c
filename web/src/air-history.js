// The city's air since 2017 in the district dashboard: AirData.kz's city-wide daily PM2.5
// (GET /api/air/city), drawn as monthly means so ten years fit a card. Fetched once.

import { getJSON } from './api.js';
import { lineChart } from './chart.js';
import { formatNumber } from './format.js';
import { t } from './i18n.js';
import { h } from './panel.js';

let state = null; // {months: [{month, value}], attribution} | {error} | 'loading'

function monthly(days) {
  const sums = new Map();
  for (const d of days) {
    const m = d.date.slice(0, 7);
    const s = sums.get(m) || [0, 0];
    sums.set(m, [s[0] + d.value, s[1] + 1]);
  }
  return [...sums.entries()].sort().map(([month, [sum, n]]) => ({ month, value: sum / n }));
}

/** The block; `redraw` is called once the data has arrived. */
export function cityAirBlock(redraw) {
  if (state === null) {
    state = 'loading';
    getJSON('/api/air/city?parameter=pm25')
      .then((body) => {
        state = { months: monthly(body.days), attribution: body.attribution };
      })
      .catch(() => {
        state = { error: true };
      })
      .finally(redraw);
  }
  if (state === 'loading') return h('section', { class: 'city-air' }, h('p', { class: 'hint', text: t('loading') }));
  if (state.error || !state.months.length) return null;
  const { months } = state;
  const first = months[0].month;
  const last = months[months.length - 1].month;
  const label = t('air.history', { first, last });
  return h(
    'section',
    { class: 'city-air', 'data-first': first, 'data-last': last },
    h('h3', { text: label }),
    lineChart([{ points: months.map((m, i) => ({ x: i + 1, y: m.value })), kind: 'main' }], {
      label,
      format: (v) => formatNumber(v, 0),
    }),
    h('p', { class: 'source', text: `${t('card.source')}: ${state.attribution}` }),
  );
}
