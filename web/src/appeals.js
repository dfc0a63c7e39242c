// Residents' appeals on the map: a signed-in resident files an appeal by clicking the map
// (category from the Open311 service list, a text), follows their appeals' statuses — which
// change live when staff move them (/api/events, topic "appeals") — and rates an answer 1–5.
// Before filing, open appeals of the chosen category within 50 m of the clicked point are
// offered (/api/appeals/duplicates): the resident may join one instead of filing a duplicate.
// Signing in is the account box's (participation.js); this panel reads the same session.

import './appeals.css';
import { ApiError, getJSON, hasKey, postJSON, sendForm, sendJSON as call } from './api.js';
import { appealServices } from './appeal-services.js';
import { createRatings } from './appeals-public.js';
import { lang, onLangChange } from './i18n.js';
import { onLive } from './live.js';
import { h, keepValues } from './panel.js';

const TEXT = {
  ru: {
    open: 'Обращения',
    heading: 'Мои обращения',
    signIn: 'Войдите в аккаунт, чтобы подать обращение',
    file: 'Подать обращение',
    clickMap: 'Нажмите на карте, где проблема',
    category: 'Категория',
    staff: 'Обращения для службы',
    staffLoad: 'Показать открытые',
    staffNone: 'Открытых обращений нет',
    newStatus: 'Новый статус',
    service: 'Служба',
    reason: 'Причина / комментарий',
    apply: 'Применить',
    text: 'Опишите проблему',
    photo: 'Фото (необязательно: JPEG, PNG или WebP до 8 МБ)',
    photoAlt: 'Фото к обращению',
    send: 'Отправить',
    cancel: 'Отмена',
    none: 'Обращений пока нет',
    rate: 'Оцените ответ',
    duplicates: 'Рядом уже есть открытые обращения: {ids}',
    nearby: 'Рядом (до 50 м) уже есть открытые обращения этой категории — можно присоединиться вместо нового:',
    join: 'Присоединиться',
    joined: 'Вы присоединились к обращению №{id}',
    following: 'вы присоединились',
    received: 'Принято',
    assigned: 'Передано службе',
    in_progress: 'В работе',
    resolved: 'Решено',
    rejected: 'Отклонено',
    changed: 'Обращение №{id}: {status}',
  },
  kk: {
    open: 'Өтініштер',
    heading: 'Менің өтініштерім',
    signIn: 'Өтініш беру үшін аккаунтқа кіріңіз',
    file: 'Өтініш беру',
    clickMap: 'Картада мәселе орнын басыңыз',
    category: 'Санат',
    staff: 'Қызметке арналған өтініштер',
    staffLoad: 'Ашықтарын көрсету',
    staffNone: 'Ашық өтініш жоқ',
    newStatus: 'Жаңа мәртебе',
    service: 'Қызмет',
    reason: 'Себебі / түсініктеме',
    apply: 'Қолдану',
    text: 'Мәселені сипаттаңыз',
    photo: 'Фото (міндетті емес: JPEG, PNG немесе WebP, 8 МБ дейін)',
    photoAlt: 'Өтініш фотосы',
    send: 'Жіберу',
    cancel: 'Болдырмау',
    none: 'Әзірге өтініш жоқ',
    rate: 'Жауапты бағалаңыз',
    duplicates: 'Жақын жерде ашық өтініштер бар: {ids}',
    nearby: 'Жақын жерде (50 м дейін) осы санаттың ашық өтініштері бар — жаңасының орнына қосылуға болады:',
    join: 'Қосылу',
    joined: '№{id} өтінішке қосылдыңыз',
    following: 'сіз қосылдыңыз',
    received: 'Қабылданды',
    assigned: 'Қызметке берілді',
    in_progress: 'Жұмыста',
    resolved: 'Шешілді',
    rejected: 'Қабылданбады',
    changed: '№{id} өтініш: {status}',
  },
  en: {
    open: 'Appeals',
    heading: 'My appeals',
    signIn: 'Sign in to file an appeal',
    file: 'File an appeal',
    clickMap: 'Click the map where the problem is',
    category: 'Category',
    staff: 'Appeals for staff',
    staffLoad: 'Show open appeals',
    staffNone: 'No open appeals',
    newStatus: 'New status',
    service: 'Service',
    reason: 'Reason / comment',
    apply: 'Apply',
    text: 'Describe the problem',
    photo: 'Photo (optional: JPEG, PNG or WebP up to 8 MB)',
    photoAlt: 'Photo of the appeal',
    send: 'Send',
    cancel: 'Cancel',
    none: 'No appeals yet',
    rate: 'Rate the answer',
    duplicates: 'Open appeals nearby already: {ids}',
    nearby: 'Open appeals of this category within 50 m — you may join one instead of filing a new one:',
    join: 'Join',
    joined: 'You joined appeal #{id}',
    following: 'joined',
    received: 'Received',
    assigned: 'Assigned to a service',
    in_progress: 'In progress',
    resolved: 'Resolved',
    rejected: 'Rejected',
    changed: 'Appeal #{id}: {status}',
  },
};

function tr(key, vars = {}) {
  const s = (TEXT[lang()] || TEXT.ru)[key] ?? TEXT.ru[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ''));
}

export function setupAppeals(app) {
  let signedIn = false;
  let services = [];
  let mine = [];
  let filing = null; // null | 'click' | {lngLat}
  let nearbyAsked = 0; // the latest duplicates request (an older answer is dropped)
  let message = '';

  const toggle = h('button', {
    id: 'appeals-toggle',
    type: 'button',
    class: 'btn btn-icon',
    'aria-controls': 'appeals-box',
    'aria-expanded': 'false',
    onclick: () => show(box.hidden),
  });
  const box = h('div', { id: 'appeals-box', class: 'account-box appeals-box', role: 'dialog', 'aria-labelledby': 'appeals-title', hidden: true });
  document.getElementById('lang-select').before(toggle);
  document.body.append(box);
  // the city services' rating, for everyone (one element kept across renders: it stays open)
  const ratings = createRatings();

  async function show(open) {
    box.hidden = !open;
    toggle.setAttribute('aria-expanded', String(open));
    if (open) await refresh();
  }

  async function refresh() {
    try {
      // ask whether a resident is signed in first: a staff member's or a visitor's map then
      // provokes no 401 (which the browser logs as an error)
      const { account } = await call('GET', '/api/accounts/session');
      if (!account) throw new ApiError(401, null);
      mine = (await call('GET', `/api/appeals/mine?lang=${lang()}`)).appeals;
      signedIn = true;
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 401) message = String(e.message || e);
      signedIn = false;
      mine = [];
    }
    if (signedIn && !services.length) services = await appealServices();
    render();
  }

  async function attempt(fn) {
    message = '';
    try {
      await fn();
    } catch (e) {
      message = e instanceof ApiError ? e.message : String(e);
    }
    // a staff list re-rendered after one appeal's step keeps what was typed for the others
    const restore = keepValues(box, '[id^="st-"]');
    render();
    restore();
  }

  function stars(appeal) {
    const current = appeal.x_satisfaction;
    return h(
      'div',
      { class: 'stars', role: 'group', 'aria-label': tr('rate') },
      [1, 2, 3, 4, 5].map((n) =>
        h('button', {
          type: 'button',
          class: 'btn btn-small',
          'data-stars': String(n),
          'aria-pressed': String(current === n),
          text: current && n <= current ? '★' : '☆',
          onclick: () =>
            attempt(async () => {
              await call('POST', `/api/appeals/${appeal.service_request_id}/rating`, { score: n });
              await refresh();
            }),
        }),
      ),
    );
  }

  /** A photo URL of our own server (uploaded with the appeal), else null: another host's
   * media_url is not loaded (the map promises nothing loads from elsewhere). */
  function ownPhoto(url) {
    if (!url) return null;
    try {
      const u = new URL(url, location.origin);
      return u.origin === location.origin && u.pathname.startsWith('/api/photos/') ? u.pathname : null;
    } catch {
      return null;
    }
  }

  function item(appeal) {
    const closed = appeal.status === 'closed';
    // only the author rates an answer; an appeal the resident joined is followed, not rated
    const own = appeal.x_mine !== false;
    return h(
      'li',
      { 'data-appeal': appeal.service_request_id, 'data-status': appeal.x_status, 'data-mine': String(own) },
      h('strong', { text: `№${appeal.service_request_id} ${appeal.service_name}` }),
      h('span', { class: 'appeal-status', text: ` — ${tr(appeal.x_status)}${own ? '' : ` (${tr('following')})`}` }),
      appeal.description ? h('p', { text: appeal.description }) : null,
      ownPhoto(appeal.media_url) ? h('img', { class: 'photo', src: ownPhoto(appeal.media_url), alt: tr('photoAlt'), loading: 'lazy' }) : null,
      closed && own ? stars(appeal) : null,
    );
  }

  /** Offer the open appeals of the chosen category within 50 m of the clicked point, each
   * with a button to join it instead of filing (drawn in place: the form keeps what is typed). */
  async function showNearby() {
    const list = document.getElementById('appeal-nearby');
    if (!list || !filing?.lngLat) return;
    const asked = ++nearbyAsked;
    const { lng, lat } = filing.lngLat;
    const code = document.getElementById('a-category')?.value;
    if (!code) return;
    let found = [];
    try {
      const q = new URLSearchParams({ service_code: code, lat: lat.toFixed(6), long: lng.toFixed(6), lang: lang() });
      found = (await call('GET', `/api/appeals/duplicates?${q}`)).appeals;
    } catch {
      found = []; // the hint is a courtesy: filing still works without it
    }
    if (asked !== nearbyAsked) return;
    list.replaceChildren(
      ...(found.length
        ? [
            h('p', { class: 'hint', text: tr('nearby') }),
            h(
              'ul',
              { class: 'my-appeals' },
              found.map((a) =>
                h(
                  'li',
                  { 'data-nearby': a.service_request_id },
                  h('span', { text: `№${a.service_request_id} ${a.service_name} — ${tr(a.x_status)} ` }),
                  h('button', { type: 'button', class: 'btn btn-small', 'data-join': a.service_request_id, text: tr('join'), onclick: () => attempt(() => join(a.service_request_id)) }),
                ),
              ),
            ),
          ]
        : []),
    );
  }

  async function join(id) {
    await call('POST', `/api/appeals/${id}/join`);
    filing = null;
    await refresh();
    message = tr('joined', { id });
  }

  function form() {
    return h(
      'form',
      { id: 'appeal-form', onsubmit: (e) => (e.preventDefault(), attempt(file)) },
      h(
        'label',
        { class: 'field', for: 'a-category' },
        h('span', { text: tr('category') }),
        h('select', { id: 'a-category', onchange: () => showNearby() }, services.map((s) => h('option', { value: s.service_code, text: s.service_name }))),
      ),
      h('div', { id: 'appeal-nearby', 'aria-live': 'polite' }),
      h('label', { class: 'field', for: 'a-text' }, h('span', { text: tr('text') }), h('textarea', { id: 'a-text', required: true, maxlength: 4000, rows: 3 })),
      h('label', { class: 'field', for: 'a-photo' }, h('span', { text: tr('photo') }), h('input', { id: 'a-photo', type: 'file', accept: 'image/jpeg,image/png,image/webp' })),
      h('button', { type: 'submit', class: 'btn', text: tr('send') }),
      h('button', { type: 'button', class: 'btn btn-small btn-link', text: tr('cancel'), onclick: () => ((filing = null), render()) }),
    );
  }

  async function file() {
    const { lng, lat } = filing.lngLat;
    const fields = {
      service_code: document.getElementById('a-category').value,
      description: document.getElementById('a-text').value,
      lat: Number(lat.toFixed(6)),
      long: Number(lng.toFixed(6)),
    };
    const photo = document.getElementById('a-photo')?.files?.[0];
    let answer;
    if (photo) {
      // the spec's multipart form, the photo as the file "media"
      const form = new FormData();
      for (const [k, v] of Object.entries(fields)) form.append(k, String(v));
      form.append('media', photo);
      answer = await sendForm('/open311/v2/requests.json', form);
    } else answer = await call('POST', '/open311/v2/requests.json', fields);
    filing = null;
    const dup = answer[0]?.x_duplicates;
    await refresh();
    message = dup ? tr('duplicates', { ids: dup }) : '';
  }

  // -- staff (a planner or admin key, entered as in the layers panel): move open appeals ---
  let staffList = null;

  async function loadStaff() {
    staffList = await getJSON('/open311/v2/requests.json', { status: 'open', page_size: 30, lang: lang() });
    if (!services.length) services = await appealServices();
  }

  async function move(appeal) {
    const id = appeal.service_request_id;
    const value = (name) => document.getElementById(`st-${name}-${id}`)?.value || undefined;
    await postJSON(`/api/appeals/${id}/status`, { status: value('status'), service: value('service'), reason: value('reason') });
    // done: this appeal's form starts afresh; what is typed in the others' is kept (attempt)
    for (const name of ['status', 'service', 'reason']) {
      const field = document.getElementById(`st-${name}-${id}`);
      if (field) field.value = field.tagName === 'SELECT' ? field.options[0]?.value ?? '' : '';
    }
    await loadStaff();
  }

  function staffBlock() {
    const parts = [h('h3', { text: tr('staff') })];
    if (staffList === null) parts.push(h('button', { id: 'staff-load', type: 'button', class: 'btn btn-small', text: tr('staffLoad'), onclick: () => attempt(loadStaff) }));
    else if (!staffList.length) parts.push(h('p', { class: 'hint', text: tr('staffNone') }));
    else {
      const agencies = [...new Map(services.map((s) => [s.x_agency_code, s.group])).entries()];
      parts.push(
        h(
          'ul',
          { id: 'staff-appeals', class: 'my-appeals' },
          staffList.map((a) => {
            const id = a.service_request_id;
            return h(
              'li',
              { 'data-appeal': id, 'data-status': a.x_status },
              h('strong', { text: `№${id} ${a.service_name} — ${tr(a.x_status)}` }),
              a.description ? h('p', { text: a.description }) : null,
              h('label', { class: 'field', for: `st-status-${id}` }, h('span', { text: tr('newStatus') }), h('select', { id: `st-status-${id}` }, ['assigned', 'in_progress', 'resolved', 'rejected'].map((st) => h('option', { value: st, text: tr(st) })))),
              h('label', { class: 'field', for: `st-service-${id}` }, h('span', { text: tr('service') }), h('select', { id: `st-service-${id}` }, [h('option', { value: '', text: '—' }), ...agencies.map(([code, name]) => h('option', { value: code, text: name }))])),
              h('label', { class: 'field', for: `st-reason-${id}` }, h('span', { text: tr('reason') }), h('input', { id: `st-reason-${id}`, maxlength: 1000 })),
              h('button', { type: 'button', class: 'btn btn-small', 'data-apply': id, text: tr('apply'), onclick: () => attempt(() => move(a)) }),
            );
          }),
        ),
      );
    }
    return h('section', { id: 'appeals-staff', 'aria-label': tr('staff') }, parts);
  }

  function render() {
    toggle.textContent = tr('open');
    toggle.title = tr('open');
    const parts = [h('h2', { id: 'appeals-title', text: tr('heading') })];
    if (!signedIn) parts.push(h('p', { class: 'hint', text: tr('signIn') }));
    else {
      if (filing && filing.lngLat) parts.push(form());
      else if (filing === 'click') parts.push(h('p', { class: 'hint', role: 'status', text: tr('clickMap') }));
      else parts.push(h('button', { id: 'appeal-file', type: 'button', class: 'btn', text: tr('file'), onclick: startFiling }));
      parts.push(mine.length ? h('ul', { id: 'my-appeals', class: 'my-appeals' }, mine.map(item)) : h('p', { class: 'hint', text: tr('none') }));
    }
    parts.push(ratings.element);
    if (hasKey()) parts.push(staffBlock());
    if (message) parts.push(h('p', { class: 'error', role: 'alert', text: message }));
    box.replaceChildren(...parts);
    if (filing?.lngLat) showNearby();
  }

  function startFiling() {
    filing = 'click';
    app.map.getCanvas().style.cursor = 'crosshair';
    render();
  }

  /** Take a map click while filing; true if taken. */
  function handleClick(e) {
    if (filing !== 'click') return false;
    filing = { lngLat: e.lngLat };
    app.map.getCanvas().style.cursor = '';
    box.hidden = false;
    render();
    return true;
  }

  /** Reload the staff list of open appeals (a new or moved appeal, from the stream), keeping
   * what staff were typing in it. */
  async function reloadStaff() {
    await loadStaff();
    const restore = keepValues(box, '[id^="st-"]');
    render();
    restore();
  }

  function listen() {
    onLive('appeals', (d) => {
      // staff with the open list loaded see a new or moved appeal without a reload
      if (staffList !== null && hasKey()) reloadStaff().catch(() => {});
      if (!mine.some((a) => Number(a.service_request_id) === d.id)) return;
      message = tr('changed', { id: d.id, status: tr(d.status) });
      refresh();
    });
    onLive('reset', () => signedIn && refresh());
  }

  onLangChange(() => {
    services = [];
    // the staff's open list names categories in the language it was asked in: ask again
    if (staffList !== null && hasKey()) reloadStaff().catch(() => {});
    ratings.rerender();
    if (!box.hidden) refresh();
    else render();
  });
  render();
  listen();
  return { handleClick, refresh };
}
