// The card of a ranked cell: its score, a bar of each factor's points (they add up to the
// score), the factors' values and weights, and a sentence built from the cell's figures.

import { ringCentre } from './analysis-ui.js';
import { openCustomCard } from './card.js';
import { formatNumber } from './format.js';
import { lang, t, title as tr, value } from './i18n.js';
import { h } from './panel.js';
import { provenanceShort } from './provenance.js';

/** The outlet data's age and completeness, for a card that rests on it. */
export function outletDataNote(ctx, cat) {
  const layer = cat?.layer ? ctx.app.catalogLayer(cat.layer) : null;
  return layer?.provenance ? h('p', { class: 'hint site-card-data', text: t('site.data.outlets', { line: provenanceShort(layer, lang()) }) }) : null;
}

export const FACTOR_COLOURS = { demand: '#1f78b4', competition: '#ff7f00', access: '#6a3d9a' };

/** Where a cell (or a site) is, in words: its nearest address or street from the server
 * (`place`, `place_kind`, `place_m`), else its district. */
export function placeText(ctx, p) {
  const district = ctx.app.districtName(p.district || '');
  if (!p.place) return t('site.no_place', { district });
  if (p.place_kind === 'address' && (p.place_m ?? 0) < 10) return t('site.at', { place: p.place });
  const key = p.place_kind === 'address' ? 'site.near.address' : 'site.near.street';
  return t(key, { place: p.place, m: formatNumber(p.place_m ?? 0, 0) });
}

/** The cell's figures as a sentence, in the interface language. */
function sentence(ctx, p, cat) {
  const minutes = formatNumber(cat?.minutes ?? 10, 0);
  const parts = [t('site.why.demand', { n: formatNumber(p.residents_within, 0), minutes })];
  if (p.outlets_within > 0) {
    parts.push(
      t('site.why.competition', {
        n: formatNumber(p.outlets_within, 0),
        minutes,
        nearest: formatNumber(p.nearest_min, 0),
        share: formatNumber((p.competition ?? 0) * 100, 0),
      }),
    );
  } else {
    parts.push(t('site.why.none', { minutes }));
  }
  parts.push(t('site.why.access', { n: formatNumber(p.bus_stops_within ?? 0, 0) }));
  if (p.road_class) parts.push(t('site.why.road', { road: value('highway', p.road_class).toLowerCase() }));
  if (p.district) parts.push(t('site.why.district', { district: ctx.app.districtName(p.district) }));
  return `${parts.join('; ')}.`;
}

function factorBar(p) {
  const factors = p.factors || [];
  const total = factors.reduce((a, f) => a + f.points, 0);
  const label = factors.map((f) => `${tr(f.title)} ${formatNumber(f.points, 1)}`).join(' + ');
  return h(
    'div',
    { class: 'factor-bar', role: 'img', 'aria-label': `${label} = ${formatNumber(total, 1)} / 100` },
    factors.map((f) =>
      h('span', {
        class: 'factor-seg',
        'data-factor': f.name,
        style: `width:${Math.max(0, f.points)}%;background:${FACTOR_COLOURS[f.name] || '#888'}`,
        title: `${tr(f.title)}: ${formatNumber(f.points, 1)}`,
      }),
    ),
  );
}

/** Open the card of cell `props` (a feature's properties with `factors`) of category `cat`. */
export function openSiteCard(ctx, { id, props, geometry, cat, total, focus }) {
  openCustomCard(ctx.app, {
    kind: 'site-cell',
    id,
    eyebrow: () => `${t('site.card')} · ${tr(cat?.title)}`,
    title: () => props.place || t('site.cell', { rank: props.rank, district: ctx.app.districtName(props.district || '') }),
    body: () => [
      h('p', { class: 'site-place', id: 'site-place', text: `№${props.rank} · ${placeText(ctx, props)}` }),
      h(
        'p',
        { class: 'site-score' },
        h('strong', { id: 'site-score', 'data-value': String(props.score), text: formatNumber(props.score, 0) }),
        h('span', { text: ` / 100 · ${t('site.rank', { rank: props.rank, total: formatNumber(total, 0) })}` }),
      ),
      factorBar(props),
      h(
        'table',
        { class: 'factors' },
        h('caption', { class: 'sr-only', text: t('site.factors') }),
        h(
          'thead',
          {},
          h('tr', {}, h('th', { scope: 'col', text: t('site.factor') }), h('th', { scope: 'col', text: t('site.value') }), h('th', { scope: 'col', text: t('site.weight') }), h('th', { scope: 'col', text: t('site.points') })),
        ),
        h(
          'tbody',
          {},
          (props.factors || []).map((x) =>
            h(
              'tr',
              { 'data-factor': x.name },
              h('th', { scope: 'row' }, h('span', { class: 'swatch swatch-fill', style: `background:${FACTOR_COLOURS[x.name] || '#888'}`, 'aria-hidden': 'true' }), ` ${tr(x.title)}`),
              h('td', { text: `${formatNumber(x.value * 100, 0)}%` }),
              h('td', { text: formatNumber(x.weight, 1) }),
              h('td', { class: 'points', 'data-points': String(x.points), text: formatNumber(x.points, 1) }),
            ),
          ),
        ),
      ),
      h('p', { class: 'site-why', text: sentence(ctx, props, cat) }),
      h(
        'div',
        { class: 'card-actions' },
        h('button', {
          type: 'button',
          class: 'btn btn-small',
          text: t('iso.from_here'),
          onclick: () => {
            const [lon, lat] = ringCentre(geometry) || [props.lon, props.lat];
            ctx.isochroneFrom({ lon, lat });
          },
        }),
      ),
      h('p', { class: 'hint', text: t('site.note') }),
      outletDataNote(ctx, cat),
    ],
    geometry,
    focus,
  });
}
