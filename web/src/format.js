// Numbers, dates and property values for people, in the interface language.

import { locale, t, unit, value } from './i18n.js';

const numberFormats = new Map();

function numberFormat(maxDigits) {
  const key = `${locale()}|${maxDigits}`;
  if (!numberFormats.has(key)) {
    numberFormats.set(key, new Intl.NumberFormat(locale(), { maximumFractionDigits: maxDigits }));
  }
  return numberFormats.get(key);
}

export function formatNumber(n, maxDigits) {
  if (n === null || n === undefined || Number.isNaN(n)) return '—';
  const digits = maxDigits ?? (Math.abs(n) >= 100 ? 0 : Math.abs(n) >= 10 ? 1 : 2);
  return numberFormat(digits).format(n);
}

export function withUnit(text, u) {
  const label = unit(u);
  if (!label) return text;
  return label === '₸' || label === '°' ? `${text} ${label}`.replace(' °', '°') : `${text} ${label}`;
}

export function formatDate(iso) {
  if (!iso) return '—';
  const d = new Date(iso.length === 10 ? `${iso}T00:00:00Z` : iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const opts =
    iso.length === 10
      ? { year: 'numeric', month: 'long', day: 'numeric', timeZone: 'UTC' }
      : { year: 'numeric', month: 'long', day: 'numeric', hour: '2-digit', minute: '2-digit' };
  return new Intl.DateTimeFormat(locale(), opts).format(d);
}

/** A property value as text, by its catalog declaration {name, type, unit, choices}. */
export function formatValue(prop, v, { districtName } = {}) {
  if (v === null || v === undefined || v === '') return null;
  switch (prop.type) {
    case 'bool':
      return v === true || v === 1 || v === 'true' ? t('yes') : t('no');
    case 'int':
    case 'float': {
      const n = Number(v);
      if (!Number.isFinite(n)) return String(v);
      const text = prop.name === 'year' || prop.name === 'period' ? String(n) : formatNumber(n);
      return withUnit(text, prop.unit);
    }
    case 'date':
    case 'datetime':
      return formatDate(String(v));
    case 'json':
      return null;
    default:
      if (prop.name === 'district' && districtName) return districtName(String(v));
      if (prop.choices) return value(prop.name, v);
      return String(v);
  }
}
