// City events on the map: outages, emergencies, road closures and planned works.
//
// The layer is a GeoJSON source read from /api/city-events — the current and upcoming events,
// or those of the time slider's day. A list in the layers panel shows the same events, and a
// small form answers "what affects my address" (the twin's search finds the address). The map
// listens to the live stream (/api/events, topic "events"): when staff post or change an
// event, a short notice says so and the layer is read again, without a reload.
//
// Staff (planner or admin key) post events by drawing them, and edit an event's fields (kind,
// severity, status, dates, title, description, a public update) in a form filled from the
// event as it is; the change is sent with the version it was based on, so a change made
// meanwhile by someone else is refused (the API's 400) and the form reloads the new version.

import * as maplibregl from 'maplibre-gl';
import './city-events.css';
import { ApiError, authHeaders, csrfHeaders, getJSON, postJSON } from './api.js';
import { formatDate } from './format.js';
import { lang, onLangChange } from './i18n.js';
import { formatMomentIn, wallClockIn } from './locale-format.js';
import { onLive } from './live.js';

const SOURCE = 'twin-city-events';
const LAYERS = ['twin-city-events-fill', 'twin-city-events-line', 'twin-city-events-point'];
const DRAFT = 'twin-city-events-draft';
const KINDS = ['emergency', 'outage_electricity', 'outage_water', 'outage_heating', 'outage_gas', 'road_closure', 'planned_works'];
const SEVERITIES = ['info', 'minor', 'major', 'critical'];
const STATUSES = ['planned', 'active', 'resolved', 'cancelled'];
/** The fields the staff edit form changes (the API's names). */
const EDITED = ['kind', 'severity', 'status', 'title', 'description', 'starts_at', 'ends_at'];

/** An API time (ISO with the Almaty offset, as the API answers) as a datetime-local value. */
export function localInput(iso) {
  return iso ? iso.slice(0, 16) : '';
}

/** A staff change of an event (PATCH with the key and the CSRF token); throws ApiError. */
async function patchJSON(path, body) {
  const response = await fetch(new URL(path, location.origin), {
    method: 'PATCH',
    headers: { Accept: 'application/json', 'Content-Type': 'application/json', ...csrfHeaders(), ...authHeaders() },
    body: JSON.stringify(body),
  });
  let answer = null;
  try {
    answer = await response.json();
  } catch {
    answer = null;
  }
  if (!response.ok) throw new ApiError(response.status, answer);
  return answer;
}

/** The drawn vertices as the GeoJSON geometry of the chosen shape, or null while too few. */
export function draftGeometry(shape, v) {
  if (shape === 'point') return v.length ? { type: 'Point', coordinates: v[v.length - 1] } : null;
  if (shape === 'line') return v.length >= 2 ? { type: 'LineString', coordinates: v } : null;
  return v.length >= 3 ? { type: 'Polygon', coordinates: [[...v, v[0]]] } : null;
}
const NOTICE_MS = 8000;

export const KIND_COLOURS = {
  emergency: '#c62828',
  outage_electricity: '#e69500',
  outage_water: '#1f78b4',
  outage_heating: '#d95f02',
  outage_gas: '#8c510a',
  road_closure: '#b2182b',
  planned_works: '#6a3d9a',
};

const TEXT = {
  ru: {
    staff: 'Новое событие (сотрудники)',
    kind: 'Вид',
    title: 'Заголовок',
    starts: 'Начало',
    ends: 'Окончание (пусто — до отмены)',
    shape: 'Форма',
    shape_point: 'точка',
    shape_line: 'линия',
    shape_area: 'область',
    draw: 'Рисовать на карте',
    drawing: 'Щёлкайте по карте: точек {n}',
    clear: 'Сбросить',
    save: 'Сохранить',
    saved: 'Сохранено: {title}',
    close_event: 'Закрыть',
    edit_event: 'Изменить',
    edit_heading: 'Изменить событие № {id}',
    severity: 'Серьёзность',
    status: 'Статус',
    description: 'Описание',
    update_text: 'Сообщение для жителей (необязательно)',
    cancel: 'Отмена',
    edit_saved: 'Изменения сохранены: {title}',
    stale: 'Событие уже изменили: форма показывает новую версию, повторите правку',
    nothing_changed: 'Ничего не изменено',
    info: 'для сведения',
    minor: 'незначительное',
    major: 'серьёзное',
    critical: 'критическое',
    need_shape: 'Нарисуйте событие на карте',
    heading: 'События в городе',
    upcoming: 'Сейчас и в ближайшие 30 дней',
    onDay: 'На {date}',
    none: 'Нет событий',
    more: 'и ещё {n}',
    affects: 'Что затронет мой адрес',
    address: 'Адрес',
    check: 'Проверить',
    nothing: 'По адресу «{place}» на {date} ничего не запланировано',
    found: '«{place}», {date}: {n}',
    wholeStreet: '{street} (вся улица)',
    notFound: 'Адрес не найден',
    created: 'Новое событие: {title}',
    changed: 'Событие изменено: {title}',
    loaded: 'Обновлены события: {source}',
    open: 'до отмены',
    source: 'Источник',
    updates: 'Обновления',
    emergency: 'ЧС',
    outage_electricity: 'Отключение электроэнергии',
    outage_water: 'Отключение воды',
    outage_heating: 'Отключение отопления',
    outage_gas: 'Отключение газа',
    road_closure: 'Перекрытие дороги',
    planned_works: 'Плановые работы',
    planned: 'запланировано',
    active: 'идёт',
    resolved: 'завершено',
    cancelled: 'отменено',
  },
  kk: {
    staff: 'Жаңа оқиға (қызметкерлер)',
    kind: 'Түрі',
    title: 'Тақырып',
    starts: 'Басталуы',
    ends: 'Аяқталуы (бос — тоқтатылғанға дейін)',
    shape: 'Пішін',
    shape_point: 'нүкте',
    shape_line: 'сызық',
    shape_area: 'аумақ',
    draw: 'Картада салу',
    drawing: 'Картаны басыңыз: нүктелер {n}',
    clear: 'Тазалау',
    save: 'Сақтау',
    saved: 'Сақталды: {title}',
    close_event: 'Жабу',
    edit_event: 'Өзгерту',
    edit_heading: '№ {id} оқиғаны өзгерту',
    severity: 'Маңыздылығы',
    status: 'Мәртебесі',
    description: 'Сипаттама',
    update_text: 'Тұрғындарға хабар (міндетті емес)',
    cancel: 'Болдырмау',
    edit_saved: 'Өзгерістер сақталды: {title}',
    stale: 'Оқиға өзгертіліп қойған: пішін жаңа нұсқаны көрсетеді, өзгертуді қайталаңыз',
    nothing_changed: 'Ештеңе өзгертілмеді',
    info: 'мәлімет үшін',
    minor: 'елеусіз',
    major: 'елеулі',
    critical: 'аса қауіпті',
    need_shape: 'Оқиғаны картада салыңыз',
    heading: 'Қаладағы оқиғалар',
    upcoming: 'Қазір және алдағы 30 күн',
    onDay: '{date} күні',
    none: 'Оқиға жоқ',
    more: 'тағы {n}',
    affects: 'Менің мекенжайыма не әсер етеді',
    address: 'Мекенжай',
    check: 'Тексеру',
    nothing: '«{place}» мекенжайында {date} күні ештеңе жоспарланбаған',
    found: '«{place}», {date}: {n}',
    wholeStreet: '{street} (бүкіл көше)',
    notFound: 'Мекенжай табылмады',
    created: 'Жаңа оқиға: {title}',
    changed: 'Оқиға өзгерді: {title}',
    loaded: 'Оқиғалар жаңартылды: {source}',
    open: 'тоқтатылғанға дейін',
    source: 'Дереккөз',
    updates: 'Жаңартулар',
    emergency: 'ТЖ',
    outage_electricity: 'Электр қуатын өшіру',
    outage_water: 'Суды өшіру',
    outage_heating: 'Жылуды өшіру',
    outage_gas: 'Газды өшіру',
    road_closure: 'Жолды жабу',
    planned_works: 'Жоспарлы жұмыстар',
    planned: 'жоспарланған',
    active: 'жүріп жатыр',
    resolved: 'аяқталды',
    cancelled: 'тоқтатылды',
  },
  en: {
    staff: 'New event (staff)',
    kind: 'Kind',
    title: 'Title',
    starts: 'Starts',
    ends: 'Ends (empty: until further notice)',
    shape: 'Shape',
    shape_point: 'point',
    shape_line: 'line',
    shape_area: 'area',
    draw: 'Draw on the map',
    drawing: 'Click the map: {n} points',
    clear: 'Clear',
    save: 'Save',
    saved: 'Saved: {title}',
    close_event: 'Close',
    edit_event: 'Edit',
    edit_heading: 'Edit event no. {id}',
    severity: 'Severity',
    status: 'Status',
    description: 'Description',
    update_text: 'Update for residents (optional)',
    cancel: 'Cancel',
    edit_saved: 'Changes saved: {title}',
    stale: 'Someone changed this event meanwhile: the form now shows the new version; make your change again',
    nothing_changed: 'Nothing changed',
    info: 'information',
    minor: 'minor',
    major: 'major',
    critical: 'critical',
    need_shape: 'Draw the event on the map',
    heading: 'City events',
    upcoming: 'Now and in the next 30 days',
    onDay: 'On {date}',
    none: 'No events',
    more: 'and {n} more',
    affects: 'What affects my address',
    address: 'Address',
    check: 'Check',
    nothing: 'Nothing is planned at “{place}” on {date}',
    found: '“{place}”, {date}: {n}',
    wholeStreet: '{street} (the whole street)',
    notFound: 'Address not found',
    created: 'New event: {title}',
    changed: 'Event changed: {title}',
    loaded: 'Events updated: {source}',
    open: 'until further notice',
    source: 'Source',
    updates: 'Updates',
    emergency: 'Emergency',
    outage_electricity: 'Power outage',
    outage_water: 'Water outage',
    outage_heating: 'Heating outage',
    outage_gas: 'Gas outage',
    road_closure: 'Road closure',
    planned_works: 'Planned works',
    planned: 'planned',
    active: 'ongoing',
    resolved: 'over',
    cancelled: 'cancelled',
  },
};

function tx(key, vars = {}) {
  const text = (TEXT[lang()] || TEXT.ru)[key] ?? TEXT.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : `{${k}}`));
}

const LIST_MAX = 50;

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) if (c) node.append(c);
  return node;
}

function when(iso) {
  if (!iso) return tx('open');
  return formatMomentIn(lang(), iso, 'Asia/Almaty');
}

function day(iso) {
  return formatDate(String(iso).slice(0, 10));
}

function todayInAlmaty() {
  const c = wallClockIn('Asia/Almaty', new Date());
  return `${c.y}-${String(c.month).padStart(2, '0')}-${String(c.day).padStart(2, '0')}`;
}

function colourExpression() {
  const match = ['match', ['get', 'kind']];
  for (const [k, c] of Object.entries(KIND_COLOURS)) match.push(k, c);
  match.push('#555555');
  return match;
}

function eventCard(props) {
  const box = el('div', { class: 'city-event-card' });
  box.append(el('strong', { text: props.title }));
  box.append(el('div', { class: 'city-event-kind', text: `${tx(props.kind)} · ${tx(props.status)}` }));
  box.append(el('div', { text: `${when(props.starts_at)} — ${when(props.ends_at)}` }));
  if (props.address) box.append(el('div', { class: 'city-event-address', text: props.address }));
  if (props.description) box.append(el('div', { text: props.description }));
  const updates = (props.updates || []).filter((u) => u.text);
  if (updates.length) {
    box.append(el('div', { class: 'city-event-updates', text: `${tx('updates')}:` }));
    for (const u of updates) box.append(el('div', { text: `${when(u.at)}: ${u.text}` }));
  }
  if (props.source_url) {
    const a = el('a', { href: props.source_url, rel: 'noreferrer', target: '_blank', text: tx('source') });
    box.append(el('div', {}, a));
  }
  return box;
}

export function setupCityEvents(app) {
  let data = { type: 'FeatureCollection', features: [] };
  let generation = 0;
  let noticeTimer = 0;

  const section = el('section', { id: 'city-events', class: 'city-events', 'aria-labelledby': 'city-events-title' });
  document.getElementById('layer-groups')?.before(section);
  const notice = el('div', { id: 'live-notice', class: 'live-notice', role: 'status', 'aria-live': 'polite' });
  notice.hidden = true;
  document.getElementById('map')?.after(notice);
  let affectsResult = null;
  // the staff form's draft: kept across redraws (the list is redrawn on every live change)
  const draft = { kind: 'road_closure', title: '', starts: '', ends: '', shape: 'line', vertices: [], drawing: false, message: null };
  const staff = () => ['planner', 'admin'].includes(app.role);

  function showDraft() {
    const v = draft.vertices;
    const geometry = draftGeometry(draft.shape, v);
    const features = v.map((c) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: c }, properties: {} }));
    if (geometry && geometry.type !== 'Point') features.push({ type: 'Feature', geometry, properties: {} });
    app.map?.getSource(DRAFT)?.setData({ type: 'FeatureCollection', features });
  }

  // the staff edit form's state: the event as loaded (its version) and the fields as typed
  let edit = null;

  async function openEdit(id, message = null) {
    try {
      const full = await getJSON(`/api/city-events/${id}`);
      const p = full.properties;
      edit = {
        id: full.id,
        version: p.version,
        loaded: { kind: p.kind, severity: p.severity, status: p.status, title: p.title, description: p.description || '', starts_at: localInput(p.starts_at), ends_at: localInput(p.ends_at) },
        text: '',
        message,
      };
      edit.fields = { ...edit.loaded };
    } catch (err) {
      draft.message = err.body?.detail || err.message;
    }
    render();
    document.getElementById('ce-edit-title')?.focus();
  }

  function editForm() {
    const form = el('form', { id: 'city-events-edit', class: 'city-events-staff', 'data-event-id': String(edit.id) });
    const field = (id, label, input) => el('div', { class: 'city-events-field' }, el('label', { for: id, text: label }), input);
    const choose = (id, name, values) => {
      const select = el('select', { id });
      for (const v of values) {
        const o = el('option', { value: v, text: tx(v) });
        if (v === edit.fields[name]) o.selected = true;
        select.append(o);
      }
      select.addEventListener('change', () => (edit.fields[name] = select.value));
      return select;
    };
    const typed = (input, name) => {
      input.value = edit.fields[name];
      input.addEventListener('input', () => (edit.fields[name] = input.value));
      return input;
    };
    const text = el('input', { id: 'ce-edit-text', type: 'text', maxlength: '2000' });
    text.value = edit.text;
    text.addEventListener('input', () => (edit.text = text.value));
    const cancel = el('button', { id: 'ce-edit-cancel', type: 'button', class: 'btn btn-small', text: tx('cancel') });
    cancel.addEventListener('click', () => {
      edit = null;
      render();
    });
    form.append(
      el('h4', { text: tx('edit_heading', { id: edit.id }) }),
      field('ce-edit-kind', tx('kind'), choose('ce-edit-kind', 'kind', KINDS)),
      field('ce-edit-severity', tx('severity'), choose('ce-edit-severity', 'severity', SEVERITIES)),
      field('ce-edit-status', tx('status'), choose('ce-edit-status', 'status', STATUSES)),
      field('ce-edit-title', tx('title'), typed(el('input', { id: 'ce-edit-title', type: 'text', maxlength: '200', required: 'required' }), 'title')),
      field('ce-edit-description', tx('description'), typed(el('textarea', { id: 'ce-edit-description', rows: '3', maxlength: '2000' }), 'description')),
      field('ce-edit-starts', tx('starts'), typed(el('input', { id: 'ce-edit-starts', type: 'datetime-local', required: 'required' }), 'starts_at')),
      field('ce-edit-ends', tx('ends'), typed(el('input', { id: 'ce-edit-ends', type: 'datetime-local' }), 'ends_at')),
      field('ce-edit-text', tx('update_text'), text),
      el('div', { class: 'city-events-row' }, el('button', { id: 'ce-edit-save', type: 'submit', class: 'btn btn-small', text: tx('save') }), cancel),
      el('p', { id: 'ce-edit-status', class: 'hint', role: 'status', 'aria-live': 'polite', text: edit.message || '' }),
    );
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const body = {};
      for (const name of EDITED) {
        if (edit.fields[name] === edit.loaded[name]) continue;
        const value = typeof edit.fields[name] === 'string' ? edit.fields[name].trim() : edit.fields[name];
        body[name] = name === 'ends_at' && !value ? null : value;
      }
      if (edit.text.trim()) body.text = edit.text.trim();
      if (!Object.keys(body).length) {
        edit.message = tx('nothing_changed');
        return render();
      }
      body.version = edit.version;
      try {
        const saved = await patchJSON(`/api/city-events/${edit.id}`, body);
        const title = saved.properties?.title ?? edit.fields.title;
        edit = null;
        draft.message = tx('edit_saved', { title });
        refresh();
      } catch (err) {
        if (err.status === 400 && /changed meanwhile/.test(err.body?.detail || '')) {
          // someone else's change came first: show theirs; the user makes theirs again
          return openEdit(edit.id, tx('stale'));
        }
        edit.message = err.body?.detail || err.message;
      }
      render();
    });
    return form;
  }

  function staffForm() {
    const form = el('form', { id: 'city-events-staff', class: 'city-events-staff' });
    const field = (id, label, input) => el('div', { class: 'city-events-field' }, el('label', { for: id, text: label }), input);
    const kind = el('select', { id: 'ce-kind' });
    for (const k of KINDS) {
      const o = el('option', { value: k, text: tx(k) });
      if (k === draft.kind) o.selected = true;
      kind.append(o);
    }
    const shape = el('select', { id: 'ce-shape' });
    for (const k of ['point', 'line', 'area']) {
      const o = el('option', { value: k, text: tx(`shape_${k}`) });
      if (k === draft.shape) o.selected = true;
      shape.append(o);
    }
    const title = el('input', { id: 'ce-title', type: 'text', maxlength: '200', required: 'required' });
    title.value = draft.title;
    const starts = el('input', { id: 'ce-starts', type: 'datetime-local', required: 'required' });
    starts.value = draft.starts;
    const ends = el('input', { id: 'ce-ends', type: 'datetime-local' });
    ends.value = draft.ends;
    kind.addEventListener('change', () => (draft.kind = kind.value));
    title.addEventListener('input', () => (draft.title = title.value));
    starts.addEventListener('input', () => (draft.starts = starts.value));
    ends.addEventListener('input', () => (draft.ends = ends.value));
    shape.addEventListener('change', () => {
      draft.shape = shape.value;
      showDraft();
    });
    const drawButton = el('button', { id: 'ce-draw', type: 'button', class: 'btn btn-small', 'aria-pressed': String(draft.drawing), text: tx('draw') });
    drawButton.addEventListener('click', () => {
      draft.drawing = !draft.drawing;
      render();
    });
    const clear = el('button', { id: 'ce-clear', type: 'button', class: 'btn btn-small', text: tx('clear') });
    clear.addEventListener('click', () => {
      draft.vertices = [];
      showDraft();
      render();
    });
    const status = el('p', { id: 'ce-status', class: 'hint', role: 'status', 'aria-live': 'polite', text: draft.message || (draft.drawing ? tx('drawing', { n: draft.vertices.length }) : '') });
    form.append(
      el('h4', { text: tx('staff') }),
      field('ce-kind', tx('kind'), kind),
      field('ce-title', tx('title'), title),
      field('ce-starts', tx('starts'), starts),
      field('ce-ends', tx('ends'), ends),
      field('ce-shape', tx('shape'), shape),
      el('div', { class: 'city-events-row' }, drawButton, clear, el('button', { id: 'ce-save', type: 'submit', class: 'btn btn-small', text: tx('save') })),
      status,
    );
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const geometry = draftGeometry(draft.shape, draft.vertices);
      if (!geometry) {
        draft.message = tx('need_shape');
        return render();
      }
      const body = { kind: draft.kind, title: draft.title.trim(), starts_at: draft.starts, ends_at: draft.ends || null, geometry };
      try {
        const saved = await postJSON('/api/city-events', body);
        draft.message = tx('saved', { title: saved.properties?.title ?? body.title });
        Object.assign(draft, { title: '', vertices: [], drawing: false });
        showDraft();
        refresh();
      } catch (err) {
        // the API names the problem (end before start, outside the city …)
        draft.message = err.body?.detail || err.message;
      }
      render();
    });
    return form;
  }

  function addLayers(map) {
    if (!map.getSource(SOURCE)) map.addSource(SOURCE, { type: 'geojson', data });
    if (!map.getSource(DRAFT)) map.addSource(DRAFT, { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
    if (!map.getLayer(`${DRAFT}-line`)) {
      map.addLayer({ id: `${DRAFT}-line`, type: 'line', source: DRAFT, paint: { 'line-color': '#d7301f', 'line-width': 3, 'line-dasharray': [2, 1] } });
      map.addLayer({ id: `${DRAFT}-point`, type: 'circle', source: DRAFT, filter: ['==', ['geometry-type'], 'Point'], paint: { 'circle-color': '#d7301f', 'circle-radius': 5 } });
    }
    const colour = colourExpression();
    const add = (layer) => !map.getLayer(layer.id) && map.addLayer(layer);
    add({
      id: LAYERS[0],
      type: 'fill',
      source: SOURCE,
      filter: ['==', ['geometry-type'], 'Polygon'],
      paint: { 'fill-color': colour, 'fill-opacity': 0.28, 'fill-outline-color': colour },
    });
    add({
      id: LAYERS[1],
      type: 'line',
      source: SOURCE,
      filter: ['!=', ['geometry-type'], 'Point'],
      paint: {
        'line-color': colour,
        'line-width': ['case', ['==', ['get', 'kind'], 'road_closure'], 4, 1.5],
        'line-dasharray': [2, 1],
      },
    });
    add({
      id: LAYERS[2],
      type: 'circle',
      source: SOURCE,
      filter: ['==', ['geometry-type'], 'Point'],
      paint: {
        'circle-color': colour,
        'circle-radius': 7,
        'circle-stroke-color': '#ffffff',
        'circle-stroke-width': 2,
      },
    });
  }

  function fitTo(feature) {
    const coords = [];
    const walk = (c) => (typeof c[0] === 'number' ? coords.push(c) : c.forEach(walk));
    walk(feature.geometry.coordinates);
    const xs = coords.map((c) => c[0]);
    const ys = coords.map((c) => c[1]);
    app.map.fitBounds(
      [
        [Math.min(...xs), Math.min(...ys)],
        [Math.max(...xs), Math.max(...ys)],
      ],
      { padding: 80, maxZoom: 16, animate: false },
    );
  }

  function showPopup(feature, lngLat) {
    new maplibregl.Popup({ maxWidth: '320px' })
      .setLngLat(lngLat)
      .setDOMContent(eventCard(feature.properties))
      .addTo(app.map);
  }

  function render() {
    section.replaceChildren();
    section.append(el('h3', { id: 'city-events-title', text: tx('heading') }));
    section.append(
      el('p', { class: 'city-events-when', text: app.date ? tx('onDay', { date: day(app.date) }) : tx('upcoming') }),
    );
    const list = el('ul', { class: 'city-events-list' });
    for (const f of data.features.slice(0, LIST_MAX)) {
      const p = f.properties;
      const button = el('button', { type: 'button', class: 'city-event-item', 'data-event-id': String(f.id) });
      const dot = el('span', { class: 'city-event-dot', 'aria-hidden': 'true' });
      dot.style.background = KIND_COLOURS[p.kind] || '#555';
      button.append(dot, el('span', { class: 'city-event-title', text: p.title }));
      button.append(el('span', { class: 'city-event-time', text: `${tx(p.kind)} · ${when(p.starts_at)}` }));
      button.addEventListener('click', () => {
        fitTo(f);
        getJSON(`/api/city-events/${f.id}`)
          .then((full) => {
            const c = app.map.getCenter();
            showPopup(full, [c.lng, c.lat]);
          })
          .catch(() => {});
      });
      const item = el('li', {}, button);
      if (staff()) {
        const change = el('button', { type: 'button', class: 'btn btn-small city-event-edit', 'data-edit-id': String(f.id), text: tx('edit_event') });
        change.addEventListener('click', () => openEdit(f.id));
        item.append(change);
      }
      if (staff() && ['planned', 'active'].includes(p.status)) {
        const close = el('button', { type: 'button', class: 'btn btn-small city-event-close', 'data-close-id': String(f.id), text: tx('close_event') });
        close.addEventListener('click', async () => {
          try {
            await patchJSON(`/api/city-events/${f.id}`, { status: 'resolved' });
          } catch (err) {
            draft.message = err.body?.detail || err.message;
          }
          refresh();
        });
        item.append(close);
      }
      list.append(item);
    }
    if (!data.features.length) list.append(el('li', { class: 'city-events-none', text: tx('none') }));
    if (data.features.length > LIST_MAX) list.append(el('li', { text: tx('more', { n: data.features.length - LIST_MAX }) }));
    section.append(list);

    const form = el('form', { class: 'city-events-affects' });
    const label = el('label', { for: 'city-events-address', text: tx('affects') });
    const input = el('input', { id: 'city-events-address', type: 'search', autocomplete: 'street-address', placeholder: tx('address') });
    const submit = el('button', { type: 'submit', class: 'btn btn-small', text: tx('check') });
    form.append(label, el('div', { class: 'city-events-row' }, input, submit));
    const out = el('div', { id: 'city-events-affects-result', role: 'status', 'aria-live': 'polite' });
    form.append(out);
    if (affectsResult) out.replaceChildren(...affectsResult);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const address = input.value.trim();
      if (!address) return;
      const on = app.date || todayInAlmaty();
      try {
        const answer = await getJSON('/api/city-events/affecting', { address, on });
        // the place as understood: a house placed on its street, or the whole street
        const p = answer.place;
        let place = p.label || address;
        if (p.precision === 'interpolated') place = `${p.label}, ${p.house}`;
        else if (p.precision === 'street') place = tx('wholeStreet', { street: p.label });
        const lines = [];
        lines.push(
          el('p', {
            text: answer.count
              ? tx('found', { place, date: day(on), n: answer.count })
              : tx('nothing', { place, date: day(on) }),
          }),
        );
        for (const f of answer.features) {
          lines.push(el('div', { class: 'city-event-affecting', text: `${f.properties.title} — ${when(f.properties.starts_at)} — ${when(f.properties.ends_at)}` }));
        }
        affectsResult = lines;
      } catch (err) {
        affectsResult = [el('p', { class: 'error', text: err.status === 404 ? tx('notFound') : err.message })];
      }
      out.replaceChildren(...affectsResult);
    });
    section.append(form);
    // one staff form at a time: the edit form while an event is being edited
    if (staff()) section.append(edit ? editForm() : staffForm());
  }

  async function refresh() {
    const mine = ++generation;
    const params = app.date ? { on: app.date } : {};
    try {
      const answer = await getJSON('/api/city-events', params);
      if (mine !== generation) return; // a newer request is on its way
      data = answer;
      app.map?.getSource(SOURCE)?.setData(data);
      render();
      document.body.dataset.cityEvents = String(data.count);
    } catch {
      /* the list keeps what it had; the next change or date move tries again */
    }
  }

  function showNotice(message) {
    const summary = message.event || {};
    const key = message.action === 'created' ? 'created' : message.action === 'loaded' ? 'loaded' : 'changed';
    notice.textContent = tx(key, { title: summary.title || '', source: message.source || '' });
    notice.hidden = false;
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => {
      notice.hidden = true;
    }, NOTICE_MS);
  }

  function listen() {
    onLive('events', (message) => {
      showNotice(message);
      refresh();
    });
    // The server no longer holds what we missed: read everything again.
    onLive('reset', () => refresh());
  }

  function handleClick(e) {
    if (draft.drawing && staff()) {
      const c = [Number(e.lngLat.lng.toFixed(6)), Number(e.lngLat.lat.toFixed(6))];
      draft.vertices = draft.shape === 'point' ? [c] : [...draft.vertices, c];
      draft.message = null;
      showDraft();
      render();
      return true;
    }
    const layers = LAYERS.filter((id) => app.map.getLayer(id));
    const hit = app.map.queryRenderedFeatures(e.point, { layers })[0];
    if (!hit) return false;
    getJSON(`/api/city-events/${hit.properties.id}`)
      .then((full) => showPopup(full, e.lngLat))
      .catch(() => showPopup(hit, e.lngLat));
    return true;
  }

  onLangChange(render);
  render();
  addLayers(app.map);
  refresh();
  listen();

  return {
    addLayers,
    refresh,
    handleClick,
    hoverLayers: () => LAYERS.filter((id) => app.map.getLayer(id)),
    features: () => data.features,
  };
}
