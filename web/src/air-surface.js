// The air surface of one day: GET /api/air/surface chooses IDW or ordinary kriging by
// leave-one-out cross-validation; the map shows the PNG over the city with the contour lines
// of its colour classes (the outlines of /api/air/surface/contours) and the card says which
// method drew it, both methods' errors, the stations used, each district's population-weighted
// exposure and the data's licence.

import { getJSON } from './api.js';
import { errorText, fillsBefore } from './analysis-ui.js';
import { closeCard, openCustomCard } from './card.js';
import { formatDate, formatNumber, formatValue } from './format.js';
import { t } from './i18n.js';
import { h } from './panel.js';

const SOURCE = 'twin-air-surface';
const CONTOURS = 'twin-air-contours';
const NAMES = { pm10: 'PM10', no2: 'NO₂' };

export function clearAirSurface(map) {
  for (const id of [CONTOURS, SOURCE]) {
    if (map.getLayer(id)) map.removeLayer(id);
    if (map.getSource(id)) map.removeSource(id);
  }
}

function draw(map, body) {
  clearAirSurface(map);
  map.addSource(SOURCE, { type: 'image', url: body.image, coordinates: body.corners });
  map.addLayer({ id: SOURCE, type: 'raster', source: SOURCE, paint: { 'raster-opacity': 0.75 } }, fillsBefore(map));
  map.addSource(CONTOURS, { type: 'geojson', data: body.contours });
  map.addLayer(
    { id: CONTOURS, type: 'line', source: CONTOURS, paint: { 'line-color': '#333333', 'line-width': 1, 'line-opacity': 0.6 } },
    fillsBefore(map),
  );
}

function errorsTable(body) {
  const cv = body.cross_validation;
  return h(
    'table',
    { class: 'air-cv', 'data-chosen': cv.chosen },
    h('tr', {}, h('th', { text: t('air.method') }), h('th', { text: 'RMSE' }), h('th', { text: 'MAE' })),
    Object.entries(cv.errors).map(([m, e]) =>
      h(
        'tr',
        { 'data-method': m, class: m === cv.chosen ? 'chosen' : '' },
        h('td', { text: t(`air.method.${m}`) + (m === cv.chosen ? ' ✓' : '') }),
        h('td', { text: formatNumber(e.rmse, 1) }),
        h('td', { text: formatNumber(e.mae, 1) }),
      ),
    ),
  );
}

function body(app, data) {
  const legend = h(
    'ul',
    { class: 'legend legend-rows' },
    data.classes.map((c, i) =>
      h(
        'li',
        {},
        h('span', { class: 'swatch swatch-fill', style: `background:${c.color}`, 'aria-hidden': 'true' }),
        h('span', {
          text:
            c.upto === null
              ? `> ${formatNumber(data.classes[i - 1].upto, 0)}`
              : `≤ ${formatNumber(c.upto, 0)}`,
        }),
      ),
    ),
  );
  return [
    h('p', { class: 'air-method', text: t('air.chosen', { method: t(`air.method.${data.method}`), n: data.cross_validation.stations }) }),
    errorsTable(data),
    h('p', { class: 'hint', text: t('air.loo') }),
    h('p', { class: 'hint', text: data.classes_basis }),
    h(
      'p',
      { class: 'air-downloads' },
      h('a', { href: data.geotiff, download: '', text: 'GeoTIFF' }),
      ' · ',
      h('a', { href: data.contours, download: '', text: 'GeoJSON' }),
    ),
    legend,
    h('h3', { text: t('air.exposure') }),
    h(
      'dl',
      { class: 'props air-exposure' },
      data.district_exposure.map((d) => [
        h('dt', { text: app.districtName(d.district) }),
        h('dd', {
          text: formatValue({ name: 'value', type: 'float', unit: data.unit }, d.mean),
          'data-district': d.district,
        }),
      ]),
    ),
    h('div', { class: 'card-actions' }, h('button', {
      type: 'button',
      class: 'btn btn-small',
      text: t('air.hide'),
      onclick: () => {
        clearAirSurface(app.map);
        closeCard(app);
      },
    })),
    h('p', { class: 'source', text: `${t('card.source')}: ${data.attribution}` }),
  ];
}

/** Fetch and show the surface of `parameter` on `day` (ISO date). */
export async function openAirSurface(app, { parameter = 'pm10', day }) {
  const params = new URLSearchParams({ parameter, day });
  let data;
  try {
    data = await getJSON(`/api/air/surface?${params}`);
  } catch (e) {
    openCustomCard(app, {
      kind: 'air_surface',
      eyebrow: () => t('air.surface'),
      title: () => `${NAMES[parameter] || parameter} · ${formatDate(day)}`,
      body: () => h('p', { class: 'error', role: 'alert', text: errorText(e) }),
    });
    return null;
  }
  draw(app.map, data);
  openCustomCard(app, {
    kind: 'air_surface',
    id: `${parameter}-${day}`,
    eyebrow: () => t('air.surface'),
    title: () => `${NAMES[parameter] || parameter} · ${formatDate(day)}`,
    body: () => body(app, data),
  });
  return data;
}
