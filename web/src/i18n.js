// Interface text in Russian (default), Kazakh and English. Layer and property titles come from
// the catalog (/catalog), and so do the labels of stored values (each property's `values`,
// declared in layers/vocabulary.py); this file holds the interface's own words and units.

import { ANALYSES } from './i18n-analyses.js';
import { APPEALS } from './i18n-appeals.js';
import { pluralWord } from './locale-format.js';
import { PARTICIPATION } from './i18n-participation.js';

export const LANGS = ['ru', 'kk', 'en'];
const STORAGE_KEY = 'twin.lang';
const LOCALES = { ru: 'ru-RU', kk: 'kk-KZ', en: 'en-GB' };

const UI = {
  'app.title': ['Алматы · цифровой двойник', 'Алматы · цифрлық егіз', 'Almaty · city twin'],
  'page.title': [
    'Алматы · цифровой двойник города',
    'Алматы · қаланың цифрлық егізі',
    'Almaty · digital twin of the city',
  ],
  skip: ['К поиску', 'Іздеуге өту', 'Skip to search'],
  'search.label': ['Поиск по карте', 'Картадан іздеу', 'Search the map'],
  'search.placeholder': ['Объект, улица, адрес', 'Нысан, көше, мекенжай', 'Place, street, address'],
  'search.results': ['Результаты поиска', 'Іздеу нәтижелері', 'Search results'],
  'search.none': ['Ничего не найдено', 'Ештеңе табылмады', 'Nothing found'],
  'search.count': ['Найдено: {n}', 'Табылды: {n}', 'Found: {n}'],
  layers: ['Слои', 'Қабаттар', 'Layers'],
  'budget.title': ['Бюджет участия', 'Қатысу бюджеті', 'Participatory budget'],
  'lang.label': ['Язык', 'Тіл', 'Language'],
  close: ['Закрыть', 'Жабу', 'Close'],
  'map.aria': ['Карта Алматы', 'Алматы картасы', 'Map of Almaty'],
  'osm.contributors': ['участники', 'қатысушылары', 'contributors'],
  'demo.notice': [
    'Часть данных — демонстрационные (сгенерированы)',
    'Деректердің бір бөлігі — демонстрациялық (жасалған)',
    'Some data are demo data (generated)',
  ],
  'demo.short': ['Есть демо-данные', 'Демо-деректер бар', 'Includes demo data'],
  'demo.badge': ['Демо-данные', 'Демо-деректер', 'Demo data'],
  'demo.feature': [
    'Этот объект сгенерирован для демонстрации',
    'Бұл нысан көрсету үшін жасалған',
    'This feature is generated demo data',
  ],
  'air.surface': ['Поверхность загрязнения', 'Ластану беті', 'Pollution surface'],
  'air.surface.open': ['Поверхность {name} за этот день', 'Осы күнгі {name} беті', '{name} surface for this day'],
  'air.method': ['Метод', 'Әдіс', 'Method'],
  'air.method.idw': ['Обратные расстояния (IDW)', 'Кері қашықтық (IDW)', 'Inverse distance (IDW)'],
  'air.method.kriging': ['Ординарный кригинг', 'Қарапайым кригинг', 'Ordinary kriging'],
  'air.chosen': [
    'Нарисовано методом «{method}»: его ошибка при проверке по {n} станциям меньше',
    '«{method}» әдісімен салынды: {n} станция бойынша тексергенде қатесі аз',
    'Drawn by {method}: the smaller error when checked on {n} stations',
  ],
  'air.loo': [
    'Ошибка — скользящий контроль: каждая станция предсказана по остальным (мкг/м³)',
    'Қате — әр станция қалғандары бойынша болжанады (мкг/м³)',
    'Error: leave-one-out, each station predicted from the others (µg/m³)',
  ],
  'air.exposure': [
    'Среднее для жителей района (взвешено по населению)',
    'Аудан тұрғындары үшін орташа (халық бойынша өлшенген)',
    "District residents' average (population-weighted)",
  ],
  'air.history': [
    'Воздух в городе: PM2.5, среднее за месяц, мкг/м³ ({first} – {last})',
    'Қаладағы ауа: PM2.5, айлық орташа, мкг/м³ ({first} – {last})',
    'City air: PM2.5, monthly mean, µg/m³ ({first} – {last})',
  ],
  'air.hide': ['Скрыть поверхность', 'Бетті жасыру', 'Hide the surface'],
  'air.noreadings': [
    'Показаний этой станции нет в загруженных данных AirData.kz',
    'Бұл станцияның көрсеткіштері жүктелген AirData.kz деректерінде жоқ',
    "This station's readings are not in the loaded AirData.kz data",
  ],
  'demo.accessibility': [
    'Сведения о доступности сгенерированы',
    'Қолжетімділік туралы мәліметтер жасалған',
    'Accessibility details are generated',
  ],
  'time.label': ['Дата', 'Күні', 'Date'],
  'time.play': ['Воспроизвести', 'Ойнату', 'Play'],
  'time.pause': ['Пауза', 'Кідірту', 'Pause'],
  'time.all': ['Все даты', 'Барлық күндер', 'All dates'],
  'guide.open': ['Как пользоваться картой', 'Картаны қалай пайдалану керек', 'How to use the map'],
  'guide.title': [
    'Цифровой двойник Алматы',
    'Алматының цифрлық егізі',
    'The digital twin of Almaty',
  ],
  'guide.lead': [
    'Карта города для жителей, акимата и бизнеса: здания и улицы, школы и больницы, работы в районах, бюджет народного участия, качество воздуха и показатели районов.',
    'Тұрғындарға, әкімдікке және бизнеске арналған қала картасы: ғимараттар мен көшелер, мектептер мен ауруханалар, аудандардағы жұмыстар, халықтық қатысу бюджеті, ауа сапасы және аудан көрсеткіштері.',
    'A map of the city for residents, the akimat and business: buildings and streets, schools and hospitals, works by district, the participatory budget, air quality and district figures.',
  ],
  'guide.search': [
    'Найдите место: улица, адрес, школа — по-русски, по-казахски или латиницей.',
    'Орынды табыңыз: көше, мекенжай, мектеп — орысша, қазақша немесе латынша.',
    'Find a place: a street, an address, a school — in Russian, Kazakh or Latin letters.',
  ],
  'guide.click': [
    'Нажмите на объект на карте — откроется карточка с его данными.',
    'Картадағы нысанды басыңыз — оның деректері бар карточка ашылады.',
    'Click an object on the map to open its card.',
  ],
  'guide.layers': [
    '«Слои» — включите то, что нужно; «Анализ» — доступность школ, больниц и другое.',
    '«Қабаттар» — керегін қосыңыз; «Талдау» — мектептер мен ауруханалардың қолжетімділігі және т.б.',
    '“Layers” turns on what you need; “Analysis” shows how far schools, clinics and more are.',
  ],
  'guide.time': [
    'Ползунок даты внизу показывает работы и проекты на выбранный день.',
    'Төмендегі күн жүгірткісі таңдалған күнгі жұмыстар мен жобаларды көрсетеді.',
    'The date slider below shows works and projects as of the chosen day.',
  ],
  'guide.demo': [
    'Часть данных — демонстрационные (сгенерированы), они отмечены значком «Демо-данные».',
    'Деректердің бір бөлігі демонстрациялық (жасалған), олар «Демо-деректер» белгісімен белгіленген.',
    'Some data are generated demo data, marked “Demo data”.',
  ],
  'guide.planner': [
    'Специалистам акимата: ключ доступа вводится в «Слоях», раздел «Камеры».',
    'Әкімдік мамандарына: кіру кілті «Қабаттар» бөлімінде, «Камералар» тарауында енгізіледі.',
    'Akimat staff: enter your access key in “Layers”, under “Cameras”.',
  ],
  'guide.ok': ['Понятно', 'Түсінікті', 'Got it'],
  'time.on': ['на {date}', '{date} күні', 'on {date}'],
  'time.now': ['сейчас', 'қазір', 'now'],
  'time.hint': [
    'Работы, проекты и обращения на выбранную дату',
    'Таңдалған күнгі жұмыстар, жобалар және өтініштер',
    'Works, projects and appeals as of the chosen date',
  ],
  'zoom.hint': ['с масштаба {z}', '{z} масштабтан', 'from zoom {z}'],
  'layer.accessibility': [
    'Доступность объектов для колясок',
    'Нысандардың арбамен қолжетімділігі',
    'Wheelchair access to public objects',
  ],
  'layer.accessibility.note': [
    'Школы, больницы, остановки и другие объекты по доступности входа',
    'Мектептер, ауруханалар, аялдамалар және басқа нысандар кіру қолжетімділігі бойынша',
    'Schools, clinics, bus stops and other places by step-free access',
  ],
  'layer.appeals.aggregate': [
    'Обращения жителей (по шестиугольникам)',
    'Тұрғындардың өтініштері (алтыбұрыштар бойынша)',
    "Residents' appeals (per hexagon)",
  ],
  'appeals.note': [
    'Для жителей обращения показаны только в агрегированном виде: число обращений в шестиугольнике.',
    'Тұрғындар үшін өтініштер тек жинақталған түрде көрсетіледі: алтыбұрыштағы өтініштер саны.',
    'Residents see appeals aggregated only: the number of appeals per hexagon.',
  ],
  'appeals.count': ['Число обращений', 'Өтініштер саны', 'Number of appeals'],
  'hex.count': ['Объектов в шестиугольнике', 'Алтыбұрыштағы нысандар', 'Features in this hexagon'],
  'cameras.locked': [
    'Камеры видны только планировщикам. Введите ключ.',
    'Камераларды тек жоспарлаушылар көреді. Кілтті енгізіңіз.',
    'Cameras are visible to planners only. Enter a key.',
  ],
  'key.label': ['Ключ планировщика', 'Жоспарлаушы кілті', 'Planner key'],
  'key.staff': ['Специалистам акимата', 'Әкімдік мамандарына', 'For city staff'],
  'key.staff.intro': [
    'Камеры, обращения по адресам и покрытие камерами открываются ключом планировщика.',
    'Камералар, мекенжай бойынша өтініштер және камералармен қамту жоспарлаушы кілтімен ашылады.',
    'Cameras, appeals by address and camera coverage open with a planner key.',
  ],
  'key.submit': ['Войти', 'Кіру', 'Sign in'],
  'key.signout': ['Выйти', 'Шығу', 'Sign out'],
  'key.invalid': ['Неизвестный ключ', 'Белгісіз кілт', 'Unknown key'],
  'key.ok': ['Вы вошли как {role}', '{role} ретінде кірдіңіз', 'Signed in as {role}'],
  'role.planner': ['планировщик', 'жоспарлаушы', 'planner'],
  'role.admin': ['администратор', 'әкімші', 'administrator'],
  'role.resident': ['житель', 'тұрғын', 'resident'],
  'legend.other': ['Прочие', 'Басқалар', 'Other'],
  'legend.less': ['меньше', 'аз', 'less'],
  'legend.more': ['больше', 'көп', 'more'],
  'legend.hexagons': [
    'Мельче масштаба {z} — шестиугольники: сколько объектов в каждом',
    '{z} масштабтан ұсақ — алтыбұрыштар: әрқайсысында қанша нысан',
    'Below zoom {z}: hexagons, how many in each',
  ],
  'legend.hexagons.always': [
    'Шестиугольники: сколько в каждом',
    'Алтыбұрыштар: әрқайсысында қаншасы',
    'Hexagons: how many in each',
  ],
  'legend.one': ['1', '1', '1'],
  'legend.fewer': ['меньше {n}', '{n} санынан аз', 'fewer than {n}'],
  'legend.orMore': ['{n} и больше', '{n} және одан көп', '{n} or more'],
  'legend.classes.same': [
    'Цвет — число обращений в шестиугольнике; он одинаков при любой категории и дате. Чем ближе масштаб, тем мельче шестиугольники.',
    'Түс — алтыбұрыштағы өтініштер саны; ол кез келген санат пен күнде бірдей. Масштаб жақындаған сайын алтыбұрыштар кішірейеді.',
    'The colour is the number of appeals in a hexagon, the same for any category or date. Zoomed in, the hexagons are smaller.',
  ],
  'legend.hundred': ['100 и больше', '100 және одан көп', '100 or more'],
  yes: ['Да', 'Иә', 'Yes'],
  no: ['Нет', 'Жоқ', 'No'],
  loading: ['Загрузка…', 'Жүктелуде…', 'Loading…'],
  'error.load': ['Не удалось загрузить данные', 'Деректерді жүктеу мүмкін болмады', 'Could not load the data'],
  'card.layer': ['Слой', 'Қабат', 'Layer'],
  'card.source': ['Источник', 'Дереккөз', 'Source'],
  'card.licence': ['Лицензия', 'Лицензия', 'Licence'],
  'card.district': ['Показатели района: {name}', 'Аудан көрсеткіштері: {name}', 'District indicators: {name}'],
  'card.readings': [
    '{name}, среднее за сутки, мкг/м³',
    '{name}, тәуліктік орташа, мкг/м³',
    '{name}, daily mean, µg/m³',
  ],
  'card.unnamed': ['Без названия', 'Атауы жоқ', 'Unnamed'],
  'dash.title': ['Показатели района', 'Аудан көрсеткіштері', 'District indicators'],
  'dash.choose': ['Район', 'Аудан', 'District'],
  'dash.choose.placeholder': ['Выберите район…', 'Ауданды таңдаңыз…', 'Choose a district…'],
  'dash.open': ['Открыть', 'Ашу', 'Open'],
  'dash.year': ['Данные за {year} год', '{year} жылғы деректер', 'Figures for {year}'],
  'dash.avg': ['Среднее по городу', 'Қала бойынша орташа', 'City average'],
  'dash.others': ['Другие районы', 'Басқа аудандар', 'Other districts'],
  'dash.rank': ['{rank}-е место из {of}', '{of} ішінен {rank}-орын', 'rank {rank} of {of}'],
  'dash.colour': ['Раскрасить карту', 'Картаны бояу', 'Colour the map'],
  'dash.chart': [
    '{title}: {district} {first}–{last}, от {from} до {to}; среднее по городу в {last} году — {avg}',
    '{title}: {district} {first}–{last}, {from} бастап {to} дейін; {last} жылы қала бойынша орташа — {avg}',
    '{title}: {district} {first}–{last}, from {from} to {to}; city average in {last}: {avg}',
  ],
  'dash.note': [
    'Среднее по городу — среднее значение восьми районов. «Демо-данные» — значения сгенерированы или вычислены из сгенерированных данных.',
    'Қала бойынша орташа — сегіз ауданның орташа мәні. «Демо-деректер» — мәндер жасалған немесе жасалған деректерден есептелген.',
    'City average is the mean of the eight districts. “Demo data” marks values that are generated or computed from generated data.',
  ],
  'dash.demo.years': ['Демо-данные за {years}', 'Демо-деректер: {years}', 'Demo data for {years}'],
  'dash.demo.from': [
    '{year}: вычислено из сгенерированных данных ({layers})',
    '{year}: жасалған деректерден есептелген ({layers})',
    '{year}: computed from generated data ({layers})',
  ],
  'choropleth.label': ['Раскраска районов', 'Аудандарды бояу', 'Colour districts by'],
  'choropleth.year': ['{year} год', '{year} жыл', '{year}'],
  'key.status.checking': ['Проверка ключа…', 'Кілт тексерілуде…', 'Checking the key…'],
  ...ANALYSES,
  ...PARTICIPATION,
  ...APPEALS,
};

const UNITS = {
  people: ['чел.', 'адам', 'people'],
  'km²': ['км²', 'км²', 'km²'],
  m: ['м', 'м', 'm'],
  km: ['км', 'км', 'km'],
  'km/h': ['км/ч', 'км/сағ', 'km/h'],
  V: ['В', 'В', 'V'],
  mm: ['мм', 'мм', 'mm'],
  places: ['мест', 'орын', 'places'],
  children: ['детей', 'бала', 'children'],
  KZT: ['₸', '₸', '₸'],
  'per 10,000': ['на 10 тыс. жителей', '10 мың тұрғынға', 'per 10,000 residents'],
  'per 1,000': ['на 1000 жителей', '1000 тұрғынға', 'per 1,000 residents'],
  'people/km²': ['чел./км²', 'адам/км²', 'people/km²'],
  'm²': ['м²', 'м²', 'm²'],
  'µg/m³': ['мкг/м³', 'мкг/м³', 'µg/m³'],
  '°': ['°', '°', '°'],
  ha: ['га', 'га', 'ha'],
};

function idx(lang) {
  const i = LANGS.indexOf(lang);
  return i < 0 ? 0 : i;
}

function initialLang() {
  const fromHash = new URLSearchParams(location.hash.slice(1)).get('lang');
  if (LANGS.includes(fromHash)) return fromHash;
  try {
    const stored = localStorage.getItem(STORAGE_KEY);
    if (LANGS.includes(stored)) return stored;
  } catch {
    /* storage may be disabled */
  }
  return 'ru';
}

let current = initialLang();
const listeners = new Set();

export function lang() {
  return current;
}

export function locale() {
  return LOCALES[current];
}

/** Interface text for `key` with `{name}` placeholders filled from `vars`. */
export function t(key, vars = {}) {
  const entry = UI[key];
  const text = entry ? entry[idx(current)] : key;
  // {n} is the value; {n#балл|балла|баллов|балла} the word's form for it (CLDR plural rules)
  return text.replace(/\{(\w+)(?:#([^}]*))?\}/g, (whole, k, forms) => {
    if (!(k in vars)) return whole;
    return forms === undefined ? String(vars[k]) : pluralWord(current, vars[k], forms);
  });
}

/** A catalog title object {ru, kk, en} in the current language. */
export function title(obj) {
  if (!obj) return '';
  if (typeof obj === 'string') return obj;
  return obj[current] ?? obj.ru ?? obj.en ?? '';
}

export function unit(u) {
  if (!u) return '';
  const entry = UNITS[u];
  return entry ? entry[idx(current)] : u;
}

// The catalog's vocabularies: `prop.value` → {ru, kk, en}, and `value` alone (first declared).
let vocabulary = new Map();

/** Read the value labels of every catalog property (called whenever /catalog is loaded). */
export function setVocabulary(catalog) {
  const next = new Map();
  for (const layer of catalog?.layers ?? []) {
    for (const p of layer.properties ?? []) {
      for (const [v, label] of Object.entries(p.values ?? {})) {
        if (!next.has(`${p.name}.${v}`)) next.set(`${p.name}.${v}`, label);
        if (!next.has(v)) next.set(v, label);
      }
    }
  }
  vocabulary = next;
}

/** A stored value's label from the catalog: property-specific first (`highway.residential`),
 * then any property's; a code no vocabulary has is shown as stored. */
export function value(prop, v) {
  const entry = vocabulary.get(`${prop}.${v}`) ?? vocabulary.get(String(v));
  return entry ? title(entry) : String(v);
}

export function onLangChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Re-label every element that carries data-i18n* attributes. */
export function applyStatic(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
  for (const el of root.querySelectorAll('[data-i18n-aria-label]')) {
    el.setAttribute('aria-label', t(el.dataset.i18nAriaLabel));
  }
  document.documentElement.lang = current;
  document.title = t('page.title');
}

export function setLang(next) {
  if (!LANGS.includes(next) || next === current) return;
  current = next;
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch {
    /* storage may be disabled */
  }
  applyStatic();
  for (const fn of listeners) fn(next);
}
