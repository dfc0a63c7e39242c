// How old and how complete the data behind a figure are, as words beside it (issue 15: the
// dashboard and the business panel showed sparse 2012 counts as facts).
//
// The facts are declared once per source in layers/provenance.py and served in /catalog as
// each layer's `provenance` ({short, source, as_of, completeness, generated, estimate,
// estimate_by, note, generated_count}) beside its `count`. This module only words them, in
// ru/kk/en. It imports nothing but locale-format.js, so Node runs it as the page does
// (tests/web/test_provenance.py).
//
//   provenanceLine(layer, 'ru')  → "OSM, март 2012 г.: очень неполные — 8 201 из примерно 50 544 (16 %)"
//   provenanceShort(layer, 'en') → "OSM 2012, sparse" ("demo data, not the city’s" if generated)
//   dataYear(layer)              → 2012

import { formatDayIn, formatMonthIn, formatNumberIn } from './locale-format.js';

const WORDS = {
  complete: { ru: 'полные', kk: 'толық', en: 'complete' },
  incomplete: { ru: 'неполные', kk: 'толық емес', en: 'incomplete' },
  sparse: { ru: 'очень неполные', kk: 'өте толық емес', en: 'sparse' },
  modelled: { ru: 'модельная оценка', kk: 'модельдік бағалау', en: 'modelled estimate' },
  partly_generated: { ru: 'частично демо-данные', kk: 'ішінара демо-деректер', en: 'partly demo data' },
  generated: { ru: 'демо-данные, не городские', kk: 'демо-деректер, қаланікі емес', en: 'demo data, not the city’s' },
};

const TEXT = {
  ofEstimate: {
    ru: '{n} из примерно {m} ({share})',
    kk: 'шамамен {m} ішінен {n} ({share})',
    en: '{n} of an estimated {m} ({share})',
  },
  realOf: {
    ru: 'настоящих {r} из {n}, остальные сгенерированы',
    kk: '{n} ішінен нақтысы {r}, қалғаны жасалған',
    en: '{r} real of {n}, the rest generated',
  },
  noDate: { ru: 'дата не указана', kk: 'күні көрсетілмеген', en: 'date not stated' },
  year: { ru: '{y}\u202fг.', kk: '{y}\u202fж.', en: '{y}' },
  noData: { ru: 'нет данных', kk: 'дерек жоқ', en: 'no data' },
  estimateBy: { ru: 'оценка: {what}', kk: 'бағалау: {what}', en: 'estimate: {what}' },
};

function pick(obj, lang) {
  if (!obj) return '';
  if (typeof obj === 'string') return obj;
  return obj[lang] ?? obj.ru ?? obj.en ?? '';
}

function fill(text, vars) {
  return text.replace(/\{(\w+)\}/g, (whole, k) => (k in vars ? String(vars[k]) : whole));
}

/** The provenance object of a catalog layer (or a provenance object itself). */
function provOf(layerOrProv) {
  if (!layerOrProv) return null;
  return layerOrProv.provenance !== undefined ? layerOrProv.provenance : layerOrProv;
}

/** When the data describe, in words: "март 2012 г.", "2012 ж. Наурыз", "25 April 2026", "2021". */
export function asOfText(asOf, lang) {
  const s = String(asOf ?? '');
  let m = /^(\d{4})-(\d{2})-(\d{2})/.exec(s);
  if (m) return formatDayIn(lang, Number(m[1]), Number(m[2]), Number(m[3]));
  m = /^(\d{4})-(\d{2})$/.exec(s);
  if (m) return formatMonthIn(lang, Number(m[1]), Number(m[2]));
  m = /^(\d{4})$/.exec(s);
  if (m) return fill(pick(TEXT.year, lang), { y: m[1] });
  return pick(TEXT.noDate, lang);
}

/** The year the data describe (2012), or null when the source states none. */
export function dataYear(layerOrProv) {
  const m = /^(\d{4})/.exec(String(provOf(layerOrProv)?.as_of ?? ''));
  return m ? Number(m[1]) : null;
}

/** The completeness in words ("очень неполные", "толық емес", "modelled estimate"). */
export function completenessText(layerOrProv, lang) {
  const p = provOf(layerOrProv);
  return p ? pick(WORDS[p.completeness], lang) || String(p.completeness) : pick(TEXT.noData, lang);
}

/** The share of an estimate a count covers, as a percentage rounded for reading ("16 %"). */
function shareText(n, m, lang) {
  const pct = (100 * n) / m;
  const digits = pct < 1 ? 1 : 0;
  const num = formatNumberIn(lang, pct, digits);
  return lang === 'en' ? `${num}%` : `${num}\u00a0%`;
}

/**
 * What is known of the count: "8 201 из примерно 50 544 (16 %)" where an independent
 * estimate exists, "настоящих 75 из 1 155, остальные сгенерированы" where generated features
 * complete real ones, '' otherwise. `count` defaults to the catalog layer's count.
 */
export function countText(layer, lang, count) {
  const p = provOf(layer);
  if (!p) return '';
  const n = count ?? layer?.count;
  if (n === undefined || n === null) return '';
  if (p.completeness === 'partly_generated' && p.generated_count !== undefined && p.generated_count !== null) {
    return fill(pick(TEXT.realOf, lang), {
      r: formatNumberIn(lang, n - p.generated_count, 0),
      n: formatNumberIn(lang, n, 0),
    });
  }
  if (p.estimate) {
    return fill(pick(TEXT.ofEstimate, lang), {
      n: formatNumberIn(lang, n, 0),
      m: formatNumberIn(lang, p.estimate, 0),
      share: shareText(n, p.estimate, lang),
    });
  }
  return '';
}

/**
 * One line on a catalog layer's data: source, date, completeness and what is known of the
 * count, e.g. "OSM, март 2012 г.: очень неполные — 8 201 из примерно 50 544 (16 %)",
 * "OSM, March 2012: sparse — 8,201 of an estimated 50,544 (16%)". A layer without provenance
 * reads "нет данных"/"no data".
 */
export function provenanceLine(layer, lang, { count } = {}) {
  const p = provOf(layer);
  if (!p) return pick(TEXT.noData, lang);
  const head = p.completeness === 'generated' ? pick(p.source, lang) : `${p.short}, ${asOfText(p.as_of, lang)}`;
  const counted = countText(layer?.provenance !== undefined ? layer : null, lang, count);
  const body = completenessText(p, lang) + (counted ? ` — ${counted}` : '');
  return `${head}: ${body}`;
}

/** A short label for beside a figure: "OSM 2012, очень неполные", "gov.kz, неполные",
 * "демо-данные, не городские". */
export function provenanceShort(layerOrProv, lang) {
  const p = provOf(layerOrProv);
  if (!p) return pick(TEXT.noData, lang);
  if (p.completeness === 'generated') return completenessText(p, lang);
  const year = dataYear(p);
  return `${p.short}${year ? ` ${year}` : ''}, ${completenessText(p, lang)}`;
}

/** The source's full name, the note and who made the estimate (for a tooltip or a details line). */
export function provenanceDetails(layerOrProv, lang) {
  const p = provOf(layerOrProv);
  if (!p) return '';
  const parts = [pick(p.source, lang)];
  if (p.estimate && p.estimate_by) {
    parts.push(fill(pick(TEXT.estimateBy, lang), { what: `${formatNumberIn(lang, p.estimate, 0)} ${pick(p.estimate_by, lang)}` }));
  }
  if (p.note) parts.push(pick(p.note, lang));
  return parts.join('. ').replace(/\.\./g, '.');
}

/** "нет данных" / "дерек жоқ" / "no data": for a figure the source has nothing for. */
export function noDataText(lang) {
  return pick(TEXT.noData, lang);
}

