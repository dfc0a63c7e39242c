// Numbers, dates and property values for people, in the interface language.

// Formatting is ours (locale-format.js, CLDR's data shipped with the app), never the
// browser's Intl: browsers without Kazakh data wrote Kazakh dates as "2023 M05 15".

import { lang, t, title, unit, value } from './i18n.js';
import { formatDayIn, formatMonthIn, formatNumberIn, formatTime } from './locale-format.js';

export function formatNumber(n, maxDigits) {
  if (n === null || n === undefined || Number.isNaN(n)) return '—';
  const digits = maxDigits ?? (Math.abs(n) >= 100 ? 0 : Math.abs(n) >= 10 ? 1 : 2);
  return formatNumberIn(lang(), n, digits);
}

export function withUnit(text, u) {
  const label = unit(u);
  if (!label) return text;
  return label === '₸' || label === '°' ? `${text} ${label}`.replace(' °', '°') : `${text} ${label}`;
}

/** A date ("2023-05-15") or a moment (ISO 8601 with a time, shown in the viewer's time zone). */
export function formatDate(iso) {
  if (!iso) return '—';
  const text = String(iso);
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (day) return formatDayIn(lang(), Number(day[1]), Number(day[2]), Number(day[3]));
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) return text;
  const date = formatDayIn(lang(), d.getFullYear(), d.getMonth() + 1, d.getDate());
  return `${date}, ${formatTime(d.getHours(), d.getMinutes())}`;
}

/** The month of a date ("2023-05-15" → "May 2023" in the interface language). */
export function formatMonth(iso) {
  const m = /^(\d{4})-(\d{2})/.exec(String(iso ?? ''));
  return m ? formatMonthIn(lang(), Number(m[1]), Number(m[2])) : '—';
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
    default: {
      if (prop.name === 'district' && districtName) return districtName(String(v));
      const labels = prop.values;
      if (labels) {
        const text = String(v);
        if (labels[text]) return title(labels[text]);
        // a list of codes ("co, no2, pm10")
        if (text.includes(',')) return text.split(/\s*,\s*/).map((x) => (labels[x] ? title(labels[x]) : x)).join(', ');
        return text;
      }
      if (prop.choices) return value(prop.name, v);
      return String(v);
    }
  }
}
