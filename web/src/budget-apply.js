// A resident's application to a budget cycle in its applications phase (issue 17, item 2):
// title, category, description, estimated cost and a point picked on the map, sent to
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
  send: ['Отправить заявку', 'Өтінім жіберу', 'Send the application'],
  sent: ['Заявка №{id} отправлена на экспертизу', '№{id} өтінім сараптамаға жіберілді', 'Application #{id} is sent for review'],
  'err.title': ['Укажите название проекта', 'Жоба атауын жазыңыз', 'Give the project a title'],
  'err.description': ['Опишите проект', 'Жобаны сипаттаңыз', 'Describe the project'],
  'err.cost': ['Стоимость — целое число тенге больше нуля', 'Құны — нөлден үлкен бүтін теңге', 'The cost must be a whole number of tenge above zero'],
  'err.place': ['Укажите место проекта на карте', 'Жоба орнын картадан көрсетіңіз', 'Pick the project’s place on the map'],
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
  let point = null;
  const where = el('output', { id: 'budget-apply-point', 'aria-live': 'polite' });
  const pick = el('button', { type: 'button', class: 'btn', id: 'budget-apply-pick', text: tx('pick') });
  const status = el('p', { id: 'budget-apply-status', role: 'status' });
  const send = el('button', { type: 'submit', class: 'btn', id: 'budget-apply-send', text: tx('send') });
  pick.addEventListener('click', () => {
    picker.active = true;
    where.textContent = tx('picking');
    picker.onPick = (lonlat) => {
      point = lonlat;
      where.textContent = tx('picked', { lon: lonlat[0], lat: lonlat[1] });
      app.select({ type: 'Point', coordinates: lonlat });
    };
  });
  form.append(
    field('budget-apply-title', tx('title'), title),
    field('budget-apply-category', tx('category'), category),
    field('budget-apply-description', tx('description'), description),
    field('budget-apply-cost', tx('cost'), cost),
    el('div', { class: 'budget-field' }, el('span', { text: tx('place') }), pick, where),
    send,
    status,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const amount = Number(cost.value);
    const missing = !title.value.trim()
      ? 'err.title'
      : !description.value.trim()
        ? 'err.description'
        : !Number.isInteger(amount) || amount <= 0
          ? 'err.cost'
          : !point
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
        location: { type: 'Point', coordinates: point },
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
