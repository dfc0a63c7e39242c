// The participatory budget panel (issue 17): a district's cycle, its projects, the resident's
// ballot with the money left as they choose (the knapsack rule shown before the server
// enforces it), and the results with why a project lost. A signed-in resident votes with the
// session cookie and the CSRF token of the twin_csrf cookie; staff see turnout with their key.

import { getJSON, sendJSON } from './api.js';
import { lang, locale, onLangChange } from './i18n.js';

const TEXT = {
  title: ['Бюджет участия', 'Қатысу бюджеті', 'Participatory budget'],
  cycle: ['Цикл', 'Цикл', 'Cycle'],
  budget: ['Бюджет района', 'Аудан бюджеті', 'District budget'],
  rule: ['Правило подсчёта', 'Санау ережесі', 'Counting rule'],
  'rule.greedy': ['по числу голосов', 'дауыс саны бойынша', 'most votes first'],
  'rule.mes': ['метод равных долей', 'тең үлестер әдісі', 'Method of Equal Shares'],
  phase: ['Этап', 'Кезең', 'Phase'],
  'phase.applications': ['приём заявок', 'өтінімдер қабылдау', 'applications'],
  'phase.review': ['экспертиза', 'сараптама', 'technical review'],
  'phase.voting': ['голосование', 'дауыс беру', 'voting'],
  'phase.results': ['итоги', 'қорытынды', 'results'],
  'phase.implementation': ['реализация', 'іске асыру', 'implementation'],
  'phase.done': ['завершён', 'аяқталды', 'done'],
  left: ['Осталось', 'Қалды', 'Money left'],
  submit: ['Проголосовать', 'Дауыс беру', 'Vote'],
  change: ['Изменить голос', 'Дауысты өзгерту', 'Change my vote'],
  saved: ['Ваш голос сохранён', 'Дауысыңыз сақталды', 'Your vote is saved'],
  over: ['Выбранное дороже бюджета', 'Таңдалғаны бюджеттен қымбат', 'Your choice costs more than the budget'],
  signin: ['Войдите, чтобы голосовать', 'Дауыс беру үшін кіріңіз', 'Sign in to vote'],
  winners: ['Победители', 'Жеңімпаздар', 'Winners'],
  losers: ['Не прошли', 'Өтпегендер', 'Not funded'],
  votes: ['голосов', 'дауыс', 'votes'],
  ballots: ['Бюллетеней', 'Бюллетеньдер', 'Ballots'],
  none: ['Циклов пока нет', 'Әзірге циклдар жоқ', 'No cycles yet'],
  demo: ['демо-данные', 'демо-деректер', 'demo data'],
};

function tx(key) {
  const i = { ru: 0, kk: 1, en: 2 }[lang()] ?? 0;
  return (TEXT[key] || [key])[i];
}

function tenge(n) {
  return `${new Intl.NumberFormat(locale(), { maximumFractionDigits: 0 }).format(n)} ₸`;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) if (c) node.append(c);
  return node;
}

async function ownBallot(cycleId) {
  // ask whether someone is signed in first, so an anonymous visitor provokes no 401
  const { account } = await getJSON('/api/accounts/session');
  if (!account) return { signedIn: false, ballot: null };
  const response = await fetch(new URL(`/api/budget/cycles/${cycleId}/ballot`, location.origin), {
    credentials: 'same-origin',
    headers: { Accept: 'application/json' },
  });
  return { signedIn: response.ok, ballot: response.ok ? await response.json() : null };
}

/** Wire the budget panel; it renders when opened and when the language changes. */
export function setupBudget(app) {
  const root = document.getElementById('budget-body');
  const toggle = document.getElementById('budget-toggle');
  if (!root || !toggle) return null;
  const state = { cycles: [], cycleId: null };

  async function render() {
    root.replaceChildren();
    try {
      state.cycles = await getJSON('/api/budget/cycles');
    } catch (err) {
      root.append(el('p', { class: 'budget-error', role: 'alert', text: err.message }));
      return;
    }
    if (!state.cycles.length) {
      root.append(el('p', { text: tx('none') }));
      return;
    }
    if (!state.cycles.some((c) => c.id === state.cycleId)) {
      state.cycleId = (state.cycles.find((c) => c.phase === 'voting') || state.cycles[0]).id;
    }
    const select = el('select', { id: 'budget-cycle' });
    for (const c of state.cycles) {
      const name = app.districtName ? app.districtName(c.district) : c.district;
      const option = el('option', { value: String(c.id), text: `${name} · ${c.year}` });
      if (c.id === state.cycleId) option.selected = true;
      select.append(option);
    }
    select.addEventListener('change', () => {
      state.cycleId = Number(select.value);
      render();
    });
    root.append(el('label', { for: 'budget-cycle', text: tx('cycle') }), select);
    const cycle = state.cycles.find((c) => c.id === state.cycleId);
    const facts = el('dl', { class: 'budget-facts' });
    facts.append(
      el('dt', { text: tx('budget') }),
      el('dd', { text: tenge(cycle.budget_kzt) }),
      el('dt', { text: tx('phase') }),
      el('dd', { id: 'budget-phase', text: tx(`phase.${cycle.phase}`) }),
      el('dt', { text: tx('rule') }),
      el('dd', { text: tx(`rule.${cycle.rule}`) }),
    );
    root.append(facts);
    if (cycle.synthetic) root.append(el('p', { class: 'demo-badge', text: tx('demo') }));
    if (cycle.phase === 'voting') await renderBallot(cycle);
    else if (['results', 'implementation', 'done'].includes(cycle.phase)) await renderResults(cycle);
    else {
      const projects = await getJSON(`/api/budget/cycles/${cycle.id}/projects`);
      const list = el('ul', { class: 'budget-list' });
      for (const p of projects) list.append(el('li', { text: `${p.title} · ${tenge(p.cost_kzt)}` }));
      root.append(list);
    }
  }

  async function renderBallot(cycle) {
    const projects = await getJSON(`/api/budget/cycles/${cycle.id}/projects`, { status: 'accepted' });
    const { signedIn, ballot } = await ownBallot(cycle.id);
    const chosen = new Set(ballot?.projects || []);
    const form = el('form', { class: 'budget-ballot', id: 'budget-ballot' });
    const left = el('output', { id: 'budget-left', 'aria-live': 'polite' });
    const status = el('p', { id: 'budget-status', role: 'status' });
    const button = el('button', { class: 'btn', type: 'submit', id: 'budget-submit' });
    button.textContent = ballot ? tx('change') : tx('submit');
    const boxes = [];
    const update = () => {
      const spent = projects.filter((p) => chosen.has(p.id)).reduce((s, p) => s + p.cost_kzt, 0);
      const rest = cycle.budget_kzt - spent;
      left.textContent = `${tx('left')}: ${tenge(rest)}`;
      left.classList.toggle('budget-over', rest < 0);
      // a project that no longer fits cannot be ticked (the knapsack rule, as the server has it)
      for (const [box, p] of boxes) box.disabled = !signedIn || (!box.checked && p.cost_kzt > rest);
      button.disabled = !signedIn || rest < 0 || chosen.size === 0;
      if (rest < 0) status.textContent = tx('over');
    };
    for (const p of projects) {
      const box = el('input', { type: 'checkbox', value: String(p.id), id: `budget-p${p.id}` });
      box.checked = chosen.has(p.id);
      box.addEventListener('change', () => {
        if (box.checked) chosen.add(p.id);
        else chosen.delete(p.id);
        status.textContent = '';
        update();
      });
      boxes.push([box, p]);
      form.append(
        el(
          'div',
          { class: 'budget-row' },
          box,
          el('label', { for: `budget-p${p.id}`, text: `${p.title} · ${tenge(p.cost_kzt)}` }),
        ),
      );
    }
    form.append(left, button, status);
    if (!signedIn) form.append(el('p', { class: 'budget-signin', text: tx('signin') }));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const body = { projects: [...chosen].sort((a, b) => a - b) };
      try {
        const path = `/api/budget/cycles/${cycle.id}/ballot`;
        const saved = await sendJSON(button.dataset.cast ? 'PUT' : ballot ? 'PUT' : 'POST', path, body);
        button.dataset.cast = '1';
        button.textContent = tx('change');
        status.textContent = `${tx('saved')} · ${tx('left')}: ${tenge(saved.left_kzt)}`;
      } catch (err) {
        status.textContent = err.message;
      }
    });
    root.append(form);
    update();
  }

  async function renderResults(cycle) {
    let res;
    try {
      res = await getJSON(`/api/budget/cycles/${cycle.id}/results`);
    } catch (err) {
      root.append(el('p', { role: 'alert', text: err.message }));
      return;
    }
    root.append(el('p', { id: 'budget-ballots', text: `${tx('ballots')}: ${res.ballots} · ${tx('left')}: ${tenge(res.left_kzt)}` }));
    const won = el('ol', { class: 'budget-list', id: 'budget-winners' });
    for (const w of res.winners) {
      won.append(el('li', { text: `${w.title} · ${tenge(w.cost_kzt)} · ${w.votes} ${tx('votes')}` }));
    }
    root.append(el('h3', { text: tx('winners') }), won);
    const lost = el('ul', { class: 'budget-list', id: 'budget-losers' });
    for (const l of res.losers) {
      const item = el('li', { text: `${l.title} · ${tenge(l.cost_kzt)} · ${l.votes} ${tx('votes')}` });
      item.append(el('small', { class: 'budget-why', text: l.why }));
      lost.append(item);
    }
    root.append(el('h3', { text: tx('losers') }), lost);
  }

  toggle.addEventListener('click', () => {
    if (app.panel === 'budget') render();
  });
  onLangChange(() => {
    if (app.panel === 'budget') render();
  });
  return { render };
}
