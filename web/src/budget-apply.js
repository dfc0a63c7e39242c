// A resident's application to a budget cycle in its applications phase (issue 17, item 2):
// title, category, description, estimated cost and a place — a point picked on the map, or an
// area drawn on it (each click adds a corner; a double-click or "Finish" closes it) — sent to
// POST /api/budget/cycles/{id}/projects with the session cookie and its CSRF token. What is
// missing is said before sending; what the server refuses is said in the interface's language
// (its English detail is kept beside for the rarer refusals), never a bare HTTP code.

import { sendJSON } from './api.js';
import { lang } from './i18n.js';

const TEXT = {
  heading: ['Подать проект', 'Жоба ұсыну', 'Propose a project'],
  signin: ['Войдите, чтобы подать проект', 'Жоба ұсыну үшін кіріңіз', 'Sign in to propose a project'],
  title: ['Название', 'Атауы', 'Title'],
  category: ['Направление', 'Бағыты', 'Category'],
  description: ['Описание', 'Сипаттамасы', 'Description'],
  cost: ['Оценка стоимости, ₸', 'Болжамды құны, ₸', 'Estimated cost, ₸'],
  place: ['Место', 'Орны', 'Place'],
  pick: ['Указать на карте', 'Картадан көрсету', 'Pick on the map'],
  picking: ['Нажмите на карту там, где будет проект', 'Жоба болатын жерді картадан басыңыз', 'Click the map where the project will be'],
  picked: ['Точка: {lat}, {lon}', 'Нүкте: {lat}, {lon}', 'Point: {lat}, {lon}'],
  draw: ['Обвести участок', 'Аумақты белгілеу', 'Draw an area'],
  drawing: [
    'Нажимайте на карту в углах участка: {n}. Двойной щелчок или «Готово» — замкнуть',
    'Аумақ бұрыштарын картадан басыңыз: {n}. Қос шерту немесе «Дайын» — тұйықтау',
    'Click the map at the area’s corners: {n}. Double-click or “Finish” to close it',
  ],
  finish: ['Готово', 'Дайын', 'Finish'],
  drawn: ['Участок: {n} углов', 'Аумақ: {n} бұрыш', 'Area: {n} corners'],
  send: ['Отправить заявку', 'Өтінім жіберу', 'Send the application'],
  sent: ['Заявка №{id} отправлена на экспертизу', '№{id} өтінім сараптамаға жіберілді', 'Application #{id} is sent for review'],
  'err.title': ['Укажите название проекта', 'Жоба атауын жазыңыз', 'Give the project a title'],
  'err.description': ['Опишите проект', 'Жобаны сипаттаңыз', 'Describe the project'],
  'err.cost': ['Стоимость — целое число тенге больше нуля', 'Құны — нөлден үлкен бүтін теңге', 'The cost must be a whole number of tenge above zero'],
  'err.place': ['Укажите место проекта на карте', 'Жоба орнын картадан көрсетіңіз', 'Pick the project’s place on the map'],
  'err.corners': [
    'У участка должно быть не меньше 3 углов',
    'Аумақтың кемінде 3 бұрышы болуы керек',
    'An area needs at least 3 corners',
  ],
  'err.area.district': [
    'Участок выходит за район этого цикла: обведите его внутри района',
    'Аумақ осы цикл ауданынан шығып тұр: оны аудан ішінде белгілеңіз',
    'The area reaches outside this cycle’s district: draw it inside the district',
  ],
  'err.area.big': ['Участок больше 1 км²: обведите меньший', 'Аумақ 1 км²-ден үлкен: кішірек белгілеңіз', 'The area is over 1 km²: draw a smaller one'],
  'err.area.small': ['Участок слишком мал: обведите его или укажите точку', 'Аумақ тым кіші: оны белгілеңіз немесе нүкте таңдаңыз', 'The area is too small: draw it again or pick a point'],
  'err.area.shape': ['Стороны участка пересекаются: обведите его заново', 'Аумақ қабырғалары қиылысады: қайта белгілеңіз', 'The area’s sides cross: draw it again'],
  'err.area.vertices': ['Слишком много углов у участка', 'Аумақтың бұрыштары тым көп', 'The area has too many corners'],
  'err.district': [
    'Место вне района этого цикла: выберите точку в районе',
    'Орын осы цикл ауданынан тыс: аудан ішінен нүкте таңдаңыз',
    'The place is outside this cycle’s district: pick a point inside it',
  ],
  'err.city': ['Место должно быть в Алматы', 'Орын Алматыда болуы керек', 'The place must be in Almaty'],
  'err.budget': [
    'Стоимость больше бюджета района',
    'Құны аудан бюджетінен асады',
    'The cost is more than the district’s budget',
  ],
  'err.phase': ['Приём заявок в этом цикле закрыт', 'Бұл циклде өтінім қабылдау жабық', 'This cycle no longer takes applications'],
  'err.auth': ['Сессия истекла: войдите снова', 'Сессия аяқталды: қайта кіріңіз', 'Your session has ended: sign in again'],
  'err.other': ['Заявка не принята', 'Өтінім қабылданбады', 'The application was not accepted'],
};

function tx(key, vars = {}) {
  const i = { ru: 0, kk: 1, en: 2 }[lang()] ?? 0;
  return TEXT[key][i].replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ''));
}

/** The words for what the server refused (an ApiError), in the interface's language. */
export function refusal(err) {
  const detail = String(err?.body?.detail ?? err?.message ?? '');
  if (err?.status === 401 || err?.status === 403) return tx('err.auth');
  if (/location area must lie in/.test(detail)) return tx('err.area.district');
  if (/location area of .* more than the limit/.test(detail)) return tx('err.area.big');
  if (/location area of .* less than/.test(detail)) return tx('err.area.small');
  if (/self-crossing area/.test(detail)) return tx('err.area.shape');
  if (/may have at most .* vertices/.test(detail)) return tx('err.area.vertices');
  if (/cycle's district/.test(detail)) return tx('err.district');
  if (/must be in Almaty/.test(detail)) return tx('err.city');
  if (/cost_kzt of .* more than the limit/.test(detail)) return tx('err.budget');
  if (/cannot submit an application/.test(detail)) return tx('err.phase');
  return detail ? `${tx('err.other')}: ${detail}` : tx('err.other');
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) if (c) node.append(c);
  return node;
}

/** Append the application form of `cycle` to `root` (or the sign-in hint); `picker` is the
 * panel's map-click hook, `changed` re-renders the panel after a submission. */
export async function renderApplicationForm(root, cycle, { app, picker, signedIn, changed }) {
  const box = el('section', { class: 'budget-apply', id: 'budget-apply' }, el('h3', { text: tx('heading') }));
  root.append(box);
  if (!signedIn) {
    box.append(el('p', { class: 'budget-signin', text: tx('signin') }));
    return;
  }
  const categories = app.catalogLayer('budget_cycle_projects')?.properties.find((p) => p.name === 'category')?.values ?? {};
  const form = el('form', { id: 'budget-apply-form', novalidate: '' });
  const field = (id, label, input) => el('div', { class: 'budget-field' }, el('label', { for: id, text: label }), input);
  const title = el('input', { id: 'budget-apply-title', maxlength: '200', required: '' });
  const category = el('select', { id: 'budget-apply-category' });
  for (const [code, titles] of Object.entries(categories)) {
    category.append(el('option', { value: code, text: titles[lang()] ?? titles.ru }));
  }
  const description = el('textarea', { id: 'budget-apply-description', rows: '3', maxlength: '5000', required: '' });
  const cost = el('input', { id: 'budget-apply-cost', type: 'number', min: '1', step: '1', inputmode: 'numeric', required: '' });
  let point = null; // the picked point, or null
  let corners = []; // the area's corners while drawn and once finished
  let areaDone = false;
  const where = el('output', { id: 'budget-apply-point', 'aria-live': 'polite' });
  const pick = el('button', { type: 'button', class: 'btn', id: 'budget-apply-pick', text: tx('pick') });
  const drawBtn = el('button', { type: 'button', class: 'btn', id: 'budget-apply-draw', text: tx('draw') });
  const finish = el('button', { type: 'button', class: 'btn', id: 'budget-apply-finish', text: tx('finish'), hidden: '' });
  const status = el('p', { id: 'budget-apply-status', role: 'status' });
  const send = el('button', { type: 'submit', class: 'btn', id: 'budget-apply-send', text: tx('send') });
  const panel = document.getElementById('budget-panel');
  let padded = false; // the map's bottom padding is ours (a phone, while placing)
  const ring = () => [...corners, corners[0]];

  /** Picking or drawing: on a phone the panel shrinks to the bottom so the map shows, and the
   * map's centre moves up into the part left visible. */
  function placing(on) {
    panel?.classList.toggle('budget-placing', on);
    if (on) placeField.scrollIntoView({ block: 'nearest' });
    const map = app.map;
    if (!map || !panel) return;
    const covered = on && panel.getBoundingClientRect().left <= 0 ? map.getContainer().getBoundingClientRect().bottom - panel.getBoundingClientRect().top : 0;
    if (covered <= 0 && !padded) return; // a desktop: the panel is beside the map
    padded = covered > 0;
    map.setPadding({ ...map.getPadding(), bottom: Math.max(0, covered) });
  }
  function showArea() {
    const shape = corners.length >= 3 ? { type: 'Polygon', coordinates: [ring()] } : corners.length === 2 ? { type: 'LineString', coordinates: corners } : corners.length ? { type: 'Point', coordinates: corners[0] } : null;
    app.select(shape);
  }
  function stopDrawing() {
    picker.active = false;
    picker.mode = 'point';
    picker.onFinish = null;
    finish.hidden = true;
    app.map?.doubleClickZoom.enable();
    placing(false);
  }
  /** Close the drawn ring (a double-click's two clicks land on one corner: kept once). */
  function finishArea() {
    corners = corners.filter((c, i) => i === 0 || Math.hypot(c[0] - corners[i - 1][0], c[1] - corners[i - 1][1]) > 1e-6);
    if (corners.length < 3) {
      where.textContent = tx('drawing', { n: corners.length });
      return false;
    }
    areaDone = true;
    stopDrawing();
    where.textContent = tx('drawn', { n: corners.length });
    showArea();
    return true;
  }
  pick.addEventListener('click', () => {
    if (picker.mode === 'area') stopDrawing();
    corners = [];
    areaDone = false;
    picker.active = true;
    picker.mode = 'point';
    where.textContent = tx('picking');
    placing(true);
    picker.onPick = (lonlat) => {
      point = lonlat;
      where.textContent = tx('picked', { lon: lonlat[0], lat: lonlat[1] });
      app.select({ type: 'Point', coordinates: lonlat });
      placing(false);
    };
  });
  drawBtn.addEventListener('click', () => {
    point = null;
    corners = [];
    areaDone = false;
    app.select(null);
    picker.active = true;
    picker.mode = 'area';
    finish.hidden = false;
    where.textContent = tx('drawing', { n: 0 });
    app.map?.doubleClickZoom.disable();
    placing(true);
    picker.onPick = (lonlat) => {
      corners.push(lonlat);
      where.textContent = tx('drawing', { n: corners.length });
      showArea();
    };
    picker.onFinish = finishArea;
  });
  finish.addEventListener('click', finishArea);
  const placeField = el('div', { class: 'budget-field budget-place' }, el('span', { text: tx('place') }), el('div', { class: 'budget-place-buttons' }, pick, drawBtn, finish), where);
  form.append(
    field('budget-apply-title', tx('title'), title),
    field('budget-apply-category', tx('category'), category),
    field('budget-apply-description', tx('description'), description),
    field('budget-apply-cost', tx('cost'), cost),
    placeField,
    send,
    status,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (picker.mode === 'area' && picker.active && corners.length >= 3) finishArea();
    const amount = Number(cost.value);
    const missing = !title.value.trim()
      ? 'err.title'
      : !description.value.trim()
        ? 'err.description'
        : !Number.isInteger(amount) || amount <= 0
          ? 'err.cost'
          : picker.mode === 'area' && picker.active && corners.length
            ? 'err.corners'
            : !point && !areaDone
              ? 'err.place'
              : null;
    status.classList.toggle('budget-error', Boolean(missing));
    if (missing) {
      status.setAttribute('role', 'alert');
      status.textContent = tx(missing);
      return;
    }
    send.disabled = true;
    try {
      const saved = await sendJSON('POST', `/api/budget/cycles/${cycle.id}/projects`, {
        title: title.value.trim(),
        description: description.value.trim(),
        category: category.value,
        cost_kzt: amount,
        location: areaDone ? { type: 'Polygon', coordinates: [ring()] } : { type: 'Point', coordinates: point },
      });
      app.select(null);
      await changed();
      // the panel was drawn again: say so in its fresh status line
      const fresh = document.getElementById('budget-apply-status');
      if (fresh) fresh.textContent = tx('sent', { id: saved.id });
    } catch (err) {
      status.setAttribute('role', 'alert');
      status.classList.add('budget-error');
      status.textContent = refusal(err);
      send.disabled = false;
    }
  });
  box.append(form);
}
