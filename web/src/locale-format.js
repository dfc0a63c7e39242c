// Numbers and dates in Russian, Kazakh and English by CLDR's conventions, with the data
// shipped here rather than taken from the browser: Debian's Chromium (and many phones) carry
// no Kazakh locale data, so Intl wrote "2023 M05 15" and "46,800,000 ₸" in the Kazakh
// interface. The few facts needed (separators, month names, the long date pattern) are copied
// from CLDR as Babel ships it; tests/web/test_locale_format.py checks them against Babel.
// No imports: the module runs as it is in the page, in Node and in the tests.

export const LOCALE_DATA = {
  ru: {
    group: '\u00a0',
    decimal: ',',
    // CLDR "d MMMM y 'г'." with the months in the genitive ("format") form
    date: 'd MMMM y\u202fг.',
    months: ['января', 'февраля', 'марта', 'апреля', 'мая', 'июня', 'июля', 'августа', 'сентября', 'октября', 'ноября', 'декабря'],
    monthsStandalone: ['январь', 'февраль', 'март', 'апрель', 'май', 'июнь', 'июль', 'август', 'сентябрь', 'октябрь', 'ноябрь', 'декабрь'],
    monthYear: 'LLLL y\u202fг.',
  },
  kk: {
    group: '\u00a0',
    decimal: ',',
    // CLDR "y 'ж'. d MMMM"
    date: 'y\u202fж. d MMMM',
    months: ['қаңтар', 'ақпан', 'наурыз', 'сәуір', 'мамыр', 'маусым', 'шілде', 'тамыз', 'қыркүйек', 'қазан', 'қараша', 'желтоқсан'],
    monthsStandalone: ['Қаңтар', 'Ақпан', 'Наурыз', 'Сәуір', 'Мамыр', 'Маусым', 'Шілде', 'Тамыз', 'Қыркүйек', 'Қазан', 'Қараша', 'Желтоқсан'],
    monthYear: 'y\u202fж. MMMM',
  },
  en: {
    group: ',',
    decimal: '.',
    // en_GB "d MMMM y"
    date: 'd MMMM y',
    months: ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'],
    monthsStandalone: ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'],
    monthYear: 'LLLL y',
  },
};

const data = (lang) => LOCALE_DATA[lang] ?? LOCALE_DATA.ru;

/** The digits of |n| as a plain decimal string (no exponent), the shortest that is this double. */
function plainDigits(n) {
  const s = String(Math.abs(n));
  const m = /^(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (!m) return s;
  const digits = m[1] + (m[2] ?? '');
  const exp = Number(m[3]);
  if (exp >= 0) return digits.padEnd(exp + 1, '0').replace(new RegExp(`^(\\d{${exp + 1}})(\\d+)$`), '$1.$2');
  return `0.${'0'.repeat(-exp - 1)}${digits}`;
}

/** Round a plain decimal string to `digits` decimals, ties away from zero; no trailing zeros. */
function roundDecimal(text, digits) {
  let [int, frac = ''] = text.split('.');
  if (frac.length > digits) {
    const up = frac.charCodeAt(digits) >= 53; // '5'
    let kept = (int + frac.slice(0, digits)).split('').map(Number);
    if (up) {
      let i = kept.length - 1;
      while (i >= 0 && kept[i] === 9) kept[i--] = 0;
      if (i < 0) kept = [1, ...kept];
      else kept[i] += 1;
    }
    const all = kept.join('');
    int = all.slice(0, all.length - digits) || '0';
    frac = all.slice(all.length - digits);
  }
  return [int.replace(/^0+(?=\d)/, ''), frac.replace(/0+$/, '')];
}

/** `n` with at most `maxDigits` decimals, grouped as `lang` writes numbers ("46 800 000", "92,7"). */
export function formatNumberIn(lang, n, maxDigits) {
  if (n === null || n === undefined || Number.isNaN(n)) return '—';
  if (!Number.isFinite(n)) return n > 0 ? '∞' : '-∞';
  const d = data(lang);
  const [int, frac] = roundDecimal(plainDigits(n), maxDigits);
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, d.group);
  const sign = n < 0 || Object.is(n, -0) ? '-' : '';
  return sign + grouped + (frac ? d.decimal + frac : '');
}

function pattern(p, d, { y, m, day }) {
  return p
    .replace(/MMMM|LLLL|y|d/g, (token) => {
      if (token === 'y') return String(y);
      if (token === 'd') return String(day);
      return token === 'MMMM' ? `\u0000${m}` : `\u0001${m}`;
    })
    .replace(/\u0000(\d+)/g, (_, i) => d.months[i])
    .replace(/\u0001(\d+)/g, (_, i) => d.monthsStandalone[i]);
}

/** A calendar date "YYYY-MM-DD" in the long form ("2023 ж. 15 мамыр", "15 мая 2023 г."). */
export function formatDayIn(lang, y, month, day) {
  return pattern(data(lang).date, data(lang), { y, m: month - 1, day });
}

/** A month of a year ("мамыр 2023" style: "2023 ж. Мамыр", "май 2023 г.", "May 2023"). */
export function formatMonthIn(lang, y, month) {
  return pattern(data(lang).monthYear, data(lang), { y, m: month - 1, day: 1 });
}

/** A time of day as 24-hour "HH:mm" (ru, kk and en_GB alike). */
export function formatTime(hours, minutes) {
  return `${String(hours).padStart(2, '0')}:${String(minutes).padStart(2, '0')}`;
}

/**
 * The wall-clock date and time of an instant (ISO 8601 or a Date) in `timeZone` (an IANA name,
 * e.g. Asia/Almaty): {y, month, day, hours, minutes}. Only the time zone rules come from the
 * browser (every browser ships them); the words are ours, as everywhere in this module.
 */
export function wallClockIn(timeZone, when) {
  const at = when instanceof Date ? when : new Date(when);
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
  }).formatToParts(at);
  const n = (type) => Number(parts.find((p) => p.type === type).value);
  return { y: n('year'), month: n('month'), day: n('day'), hours: n('hour') % 24, minutes: n('minute') };
}

/** An instant as its date and "HH:mm" in `timeZone`, in `lang` ("2025 ж. 10 қаңтар, 10:30"). */
export function formatMomentIn(lang, when, timeZone) {
  const c = wallClockIn(timeZone, when);
  return `${formatDayIn(lang, c.y, c.month, c.day)}, ${formatTime(c.hours, c.minutes)}`;
}

/**
 * CLDR's plural category of `n` in `lang`: Russian one/few/many/other (1 балл, 2 балла,
 * 5 баллов, 1,5 балла), Kazakh and English one/other. `n` may be a number or the text the
 * page wrote for it ("1 234,5").
 */
export function pluralIn(lang, n) {
  const text = typeof n === 'number' ? plainDigits(n) : String(n).replace(/[\s\u00a0\u202f,]/g, (c) => (c === ',' && lang !== 'en' ? '.' : ''));
  const [int = '0', frac = ''] = text.replace(/^-/, '').split('.');
  const i = Number(int);
  const v = frac.length;
  if (lang === 'ru') {
    if (v !== 0) return 'other';
    if (i % 10 === 1 && i % 100 !== 11) return 'one';
    if (i % 10 >= 2 && i % 10 <= 4 && !(i % 100 >= 12 && i % 100 <= 14)) return 'few';
    return 'many';
  }
  if (lang === 'kk') return Number(text) === 1 ? 'one' : 'other';
  return i === 1 && v === 0 ? 'one' : 'other';
}

const PLURAL_ORDER = { ru: ['one', 'few', 'many', 'other'], kk: ['one', 'other'], en: ['one', 'other'] };

/** The form of a word for `n` from `forms` "one|few|many|other" (ru) or "one|other" (kk, en). */
export function pluralWord(lang, n, forms) {
  const list = forms.split('|');
  const order = PLURAL_ORDER[lang] ?? PLURAL_ORDER.en;
  const i = order.indexOf(pluralIn(lang, n));
  return list[Math.min(i, list.length - 1)] ?? list[list.length - 1];
}
