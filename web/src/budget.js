// The participatory budget panel (issue 17): a district's cycle, its projects, the resident's
// ballot with the money left as they choose (the knapsack rule shown before the server
// enforces it), and the results with why a project lost (in ru/kk/en, from the reasons' data)
// and why, under the cycle's rule, a project with more votes can lose. A signed-in resident
// votes with the session cookie and the CSRF token of the twin_csrf cookie; staff (a key)
// also get budget-staff.js's block: applications to review, the next phase, turnout.
// The panel opens the current cycle of the resident's district: chosen once in the panel
// ("My district") and remembered in this browser (localStorage), for anyone, signed in or
// not — a district is no secret and needs no account; without one, the first cycle in voting.
// While the panel is open the map draws the selected cycle's projects only (budget-map.js),
// and each project in the panel opens its card. In the applications phase a signed-in
// resident applies with a form (budget-apply.js).
// Live: a phase change re-renders the panel; a submitted or reviewed application reloads the
// staff block only (a resident's unsent ticks are not lost to someone else's application).

import { getJSON, hasKey, sendJSON } from './api.js';
import { renderApplicationForm } from './budget-apply.js';
import { cycleMap } from './budget-map.js';
import { renderStaff } from './budget-staff.js';
import { formatDate, formatNumber } from './format.js';
import { lang, onLangChange } from './i18n.js';
import { pluralWord } from './locale-format.js';
import { onLive } from './live.js';

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
  calendar: ['Этапы цикла', 'Цикл кезеңдері', 'The cycle’s phases'],
  planned: ['с {date} (по плану)', '{date} бастап (жоспар бойынша)', 'from {date} (planned)'],
  started: ['с {date}', '{date} бастап', 'from {date}'],
  startedBy: ['с {date} · {by}', '{date} бастап · {by}', 'from {date} · {by}'],
  left: ['Осталось', 'Қалды', 'Money left'],
  submit: ['Проголосовать', 'Дауыс беру', 'Vote'],
  change: ['Изменить голос', 'Дауысты өзгерту', 'Change my vote'],
  saved: ['Ваш голос сохранён', 'Дауысыңыз сақталды', 'Your vote is saved'],
  over: ['Выбранное дороже бюджета', 'Таңдалғаны бюджеттен қымбат', 'Your choice costs more than the budget'],
  signin: ['Войдите, чтобы голосовать', 'Дауыс беру үшін кіріңіз', 'Sign in to vote'],
  winners: ['Победители', 'Жеңімпаздар', 'Winners'],
  losers: ['Не прошли', 'Өтпегендер', 'Not funded'],
  votes: ['{n} {n#голос|голоса|голосов|голоса}', '{n} дауыс', '{n} {n#vote|votes}'],
  ballots: ['Бюллетеней', 'Бюллетеньдер', 'Ballots'],
  none: ['Циклов пока нет', 'Әзірге циклдар жоқ', 'No cycles yet'],
  myDistrict: ['Мой район', 'Менің ауданым', 'My district'],
  anyDistrict: ['не выбран', 'таңдалмаған', 'not chosen'],
  noCycleHere: [
    'В вашем районе пока нет цикла бюджета участия',
    'Сіздің ауданыңызда әзірге қатысу бюджетінің циклі жоқ',
    'Your district has no participatory-budget cycle yet',
  ],
  onMap: ['Показать на карте', 'Картадан көрсету', 'Show on the map'],
  projects: ['Проекты', 'Жобалар', 'Projects'],
  'status.submitted': ['заявка', 'өтінім', 'application'],
  'status.accepted': ['в бюллетене', 'бюллетеньде', 'on the ballot'],
  'status.rejected': ['не прошёл экспертизу', 'сараптамадан өтпеді', 'failed review'],
  demo: ['демо-данные', 'демо-деректер', 'demo data'],
  spent: ['Потрачено', 'Жұмсалды', 'Spent'],
  whyTitle: [
    'Почему проект с большим числом голосов может не пройти',
    'Неліктен дауысы көп жоба өтпеуі мүмкін',
    'Why a project with more votes can lose',
  ],
  'explain.greedy': [
    'Проекты берутся по числу голосов, пока хватает денег. Проект с большим числом голосов не проходит, если к его очереди оставшихся денег уже не хватает, а более дешёвые проекты с меньшим числом голосов ещё помещаются.',
    'Жобалар ақша жеткенше дауыс саны бойынша алынады. Дауысы көп жоба кезегі келгенде қалған ақша жетпесе өтпейді, ал дауысы азырақ арзан жобалар әлі сыяды.',
    'Projects are taken by votes while the money lasts. A project with more votes loses when the money left at its turn is not enough, while cheaper projects with fewer votes still fit.',
  ],
  'explain.mes': [
    'Бюджет делится поровну между проголосовавшими; проект проходит, только если его сторонники могут оплатить его из своих долей. Поэтому проект с большим числом голосов может уступить проекту другой группы жителей, чьи доли ещё не потрачены. Остаток затем распределяется по числу голосов.',
    'Бюджет дауыс бергендер арасында тең бөлінеді; жоба өз жақтастары оны өз үлестерінен төлей алса ғана өтеді. Сондықтан дауысы көп жоба үлестері әлі жұмсалмаған басқа тұрғындар тобының жобасына жол беруі мүмкін. Қалған ақша кейін дауыс саны бойынша бөлінеді.',
    'The budget is split equally among the voters; a project wins only if its supporters can pay for it from their shares. So a project with more votes can lose to a project of another group of residents whose shares are not yet spent. What is left then goes by votes.',
  ],
  'why.no_votes': ['ни один бюллетень его не поддержал', 'бірде-бір бюллетень оны қолдамады', 'no ballot approved it'],
  'why.no_money': [
    'когда подошла его очередь ({votes} {votes#голос|голоса|голосов|голоса}), оставалось лишь {left}, а он стоит {cost}',
    'кезегі келгенде ({votes} дауыс) тек {left} қалды, ал оның құны {cost}',
    'when its turn came ({votes} {votes#vote|votes}) only {left} were left and it costs {cost}',
  ],
  'why.after': [
    '; после него прошли проекты с меньшим числом голосов, которые ещё помещались: {titles}',
    '; одан кейін әлі сыйған, дауысы азырақ жобалар өтті: {titles}',
    '; projects with fewer votes won after it because they still fitted: {titles}',
  ],
  'why.shares': [
    'у его сторонников ({votes}) оставалось {had} из их равных долей (доля каждого — {share}), меньше его стоимости {cost}',
    'оның жақтастарында ({votes}) тең үлестерінен {had} қалды (әрқайсысының үлесі — {share}), бұл оның құнынан {cost} аз',
    'its {votes} {votes#supporter|supporters} had {had} of their equal shares left (each voter’s share is {share}), less than its cost {cost}',
  ],
  'why.paid': [
    '; они уже оплатили: {titles}',
    '; олар төлеп қойған: {titles}',
    '; they had paid for: {titles}',
  ],
};

/** The panel's words for `key`; {n} is a value, {n#голос|голоса|голосов|голоса} the word's
 * form for it by CLDR's plural rules (as the interface's t()). */
function tx(key, vars = {}) {
  const i = { ru: 0, kk: 1, en: 2 }[lang()] ?? 0;
  const words = TEXT[key] ? TEXT[key][i] : key;
  return words.replace(/\{(\w+)(?:#([^}]*))?\}/g, (_, k, forms) =>
    forms === undefined ? String(vars[k] ?? '') : pluralWord(lang(), vars[k] ?? 0, forms),
  );
}

/** Why a project lost, in the panel's language, from the result's `why_facts` (the English
 * `why` when the cycle was counted before they were kept). */
function whyText(loser, titles) {
  const f = loser.why_facts || {};
  const names = (ids) => ids.map((id) => `«${titles.get(id) ?? `№${id}`}»`).join(', ');
  if (f.kind === 'no_votes') return tx('why.no_votes');
  if (f.kind === 'no_money') {
    const base = tx('why.no_money', { votes: formatNumber(loser.votes, 0), left: tenge(f.left_kzt), cost: tenge(loser.cost_kzt) });
    return f.after?.length ? base + tx('why.after', { titles: names(f.after) }) : base;
  }
  if (f.kind === 'shares') {
    const base = tx('why.shares', { votes: formatNumber(loser.votes, 0), had: tenge(f.had_kzt), share: tenge(f.share_kzt), cost: tenge(loser.cost_kzt) });
    return f.paid_for?.length ? base + tx('why.paid', { titles: names(f.paid_for) }) : base;
  }
  return loser.why;
}

function tenge(n) {
  return `${formatNumber(n, 0)} ₸`;
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

const DISTRICT_KEY = 'twin.budget.district';

function rememberedDistrict() {
  try {
    return localStorage.getItem(DISTRICT_KEY) || null;
  } catch {
    return null; // storage disabled: chosen again on each visit
  }
}

function remember(district) {
  try {
    if (district) localStorage.setItem(DISTRICT_KEY, district);
    else localStorage.removeItem(DISTRICT_KEY);
  } catch {
    /* storage disabled */
  }
}

/** Wire the budget panel; it renders when opened, when the language or the staff key
 * changes, and live (see the file's head). */
export function setupBudget(app) {
  const root = document.getElementById('budget-body');
  const toggle = document.getElementById('budget-toggle');
  if (!root || !toggle) return null;
  const state = { cycles: [], cycleId: null, district: rememberedDistrict() };
  const onMap = cycleMap(app);
  let generation = 0; // a render started later wins over an older one still awaiting answers
  let staffBox = null; // the staff block's container in the current render
  const districtName = (d) => (app.districtName ? app.districtName(d) : d);
  // a point being picked, or an area's corners being clicked, for an application
  const picker = { active: false, mode: 'point', onPick: null, onFinish: null };

  /** "My district": the districts that have cycles; the choice is remembered and opens that
   * district's current cycle. */
  function districtChooser() {
    const select = el('select', { id: 'budget-district' });
    select.append(el('option', { value: '', text: tx('anyDistrict') }));
    for (const d of [...new Set(state.cycles.map((c) => c.district))].sort()) {
      const option = el('option', { value: d, text: districtName(d) });
      if (d === state.district) option.selected = true;
      select.append(option);
    }
    select.addEventListener('change', () => {
      state.district = select.value || null;
      remember(state.district);
      state.cycleId = null; // open the chosen district's current cycle
      render();
    });
    return el('div', { class: 'budget-district' }, el('label', { for: 'budget-district', text: tx('myDistrict') }), select);
  }

  /** A small button that opens project `id`'s card (and shows it on the map). */
  function mapButton(id) {
    const button = el('button', { type: 'button', class: 'btn btn-small budget-on-map', 'data-project': String(id), 'aria-label': tx('onMap'), title: tx('onMap') });
    // a map pin drawn inline (a glyph such as ⌖ is missing from many phone fonts)
    const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('width', '16');
    svg.setAttribute('height', '16');
    svg.setAttribute('aria-hidden', 'true');
    const pin = document.createElementNS('http://www.w3.org/2000/svg', 'path');
    pin.setAttribute('d', 'M12 2a7 7 0 0 0-7 7c0 5 7 13 7 13s7-8 7-13a7 7 0 0 0-7-7zm0 9.5A2.5 2.5 0 1 1 12 6.5a2.5 2.5 0 0 1 0 5z');
    pin.setAttribute('fill', 'currentColor');
    svg.append(pin);
    button.append(svg);
    button.addEventListener('click', () => onMap.open(id).catch(() => {}));
    return button;
  }

  async function signedIn() {
    try {
      const { account } = await getJSON('/api/accounts/session');
      return Boolean(account);
    } catch {
      return false;
    }
  }

  async function render() {
    const mine = ++generation;
    const out = document.createDocumentFragment();
    try {
      await build(out);
    } catch (err) {
      out.append(el('p', { class: 'budget-error', role: 'alert', text: err.message }));
    }
    if (mine === generation) root.replaceChildren(out);
  }

  /** The cycle's phases: when staff moved the cycle into each (staff also see who), the
   * planned day for the phases not reached (or not recorded: a generated cycle). */
  function calendar(cycle) {
    const list = el('ol', { id: 'budget-calendar', class: 'budget-calendar' });
    for (const p of cycle.phases || []) {
      const text = p.started_at
        ? tx(hasKey() && p.started_by ? 'startedBy' : 'started', { date: formatDate(p.started_at), by: p.started_by })
        : tx('planned', { date: formatDate(p.planned) });
      const item = el('li', { 'data-phase': p.phase, 'data-started': p.started_at || '', text: `${tx(`phase.${p.phase}`)}: ${text}` });
      if (p.phase === cycle.phase) item.setAttribute('aria-current', 'step');
      list.append(item);
    }
    return el('details', { class: 'budget-calendar-box' }, el('summary', { text: tx('calendar') }), list);
  }

  async function build(root) {
    staffBox = null;
    staffMessage = '';
    state.cycles = await getJSON('/api/budget/cycles');
    if (!state.cycles.length) {
      root.append(el('p', { text: tx('none') }));
      return;
    }
    root.append(districtChooser());
    const own = state.district ? state.cycles.filter((c) => c.district === state.district) : [];
    if (state.district && !own.length) root.append(el('p', { id: 'budget-no-cycle', text: tx('noCycleHere') }));
    if (!state.cycles.some((c) => c.id === state.cycleId)) {
      // my district's current cycle: its newest (cycles come newest year first)
      state.cycleId = (own[0] || state.cycles.find((c) => c.phase === 'voting') || state.cycles[0]).id;
    }
    const select = el('select', { id: 'budget-cycle' });
    for (const c of state.cycles) {
      const option = el('option', { value: String(c.id), text: `${districtName(c.district)} · ${c.year}` });
      if (c.id === state.cycleId) option.selected = true;
      select.append(option);
    }
    select.addEventListener('change', () => {
      if (Number(select.value) === state.cycleId) return; // the same cycle: keep what is typed
      state.cycleId = Number(select.value);
      render();
    });
    // the projects on the map (every phase; votes only once counted, as the layer has them)
    const all = await getJSON(`/api/budget/cycles/${state.cycleId}/projects`);
    root.append(el('label', { for: 'budget-cycle', text: tx('cycle') }), select);
    const cycle = state.cycles.find((c) => c.id === state.cycleId);
    const facts = el('dl', { class: 'budget-facts' });
    facts.append(
      el('dt', { text: tx('budget') }),
      el('dd', { text: tenge(cycle.budget_kzt) }),
      el('dt', { text: tx('phase') }),
      el('dd', { id: 'budget-phase', 'data-phase': cycle.phase, text: tx(`phase.${cycle.phase}`) }),
      el('dt', { text: tx('rule') }),
      el('dd', { text: tx(`rule.${cycle.rule}`) }),
    );
    root.append(facts, calendar(cycle));
    if (cycle.synthetic) root.append(el('p', { class: 'demo-badge', text: tx('demo') }));
    if (isOpen()) onMap.show(cycle, all);
    if (cycle.phase === 'voting') await renderBallot(root, cycle);
    else if (['results', 'implementation', 'done'].includes(cycle.phase)) await renderResults(root, cycle);
    else {
      const list = el('ul', { class: 'budget-list', id: 'budget-projects' });
      for (const p of all) {
        const item = el('li', { 'data-status': p.status, 'data-project': String(p.id), text: `${p.title} · ${tenge(p.cost_kzt)} · ${tx(`status.${p.status}`)}` });
        item.append(mapButton(p.id));
        list.append(item);
      }
      root.append(el('h3', { text: tx('projects') }), list);
      if (cycle.phase === 'applications') {
        await renderApplicationForm(root, cycle, {
          app,
          picker,
          signedIn: await signedIn(),
          changed: async () => {
            onMap.reload();
            await render();
          },
        });
      }
    }
    if (hasKey()) {
      staffBox = el('section', { id: 'budget-staff', class: 'budget-staff' });
      root.append(staffBox);
      await renderStaffBlock(cycle);
    }
  }

  let staffMessage = ''; // the staff block's last outcome, kept across live reloads
  let staffGeneration = 0;

  async function renderStaffBlock(cycle, message = staffMessage) {
    if (!staffBox) return;
    staffMessage = message;
    // the block is built aside and put in only if no later reload started meanwhile (a live
    // reload and staff's own can overlap; the later one has the newer list)
    const mine = ++staffGeneration;
    const box = staffBox;
    const fresh = el('div');
    await renderStaff(fresh, cycle, {
      tx,
      tenge,
      districtName,
      message,
      changed: render,
      reloadStaff: (msg) => renderStaffBlock(cycle, msg),
    });
    if (mine !== staffGeneration || box !== staffBox) return;
    // what staff were typing survives a live reload: copied at the swap, not when the reload
    // started, so nothing typed while the list was being fetched is lost
    const focused = box.contains(document.activeElement) ? document.activeElement.id : '';
    for (const input of box.querySelectorAll('input[id]')) {
      const twin = fresh.querySelector(`#${CSS.escape(input.id)}`);
      if (twin) twin.value = input.value;
    }
    box.replaceChildren(...fresh.childNodes);
    if (focused) document.getElementById(focused)?.focus();
  }

  async function renderBallot(root, cycle) {
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
          mapButton(p.id),
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

  async function renderResults(root, cycle) {
    let res;
    try {
      res = await getJSON(`/api/budget/cycles/${cycle.id}/results`);
    } catch (err) {
      root.append(el('p', { role: 'alert', text: err.message }));
      return;
    }
    root.append(
      el('p', {
        id: 'budget-ballots',
        text: `${tx('ballots')}: ${formatNumber(res.ballots, 0)} · ${tx('spent')}: ${tenge(res.spent_kzt)} · ${tx('left')}: ${tenge(res.left_kzt)}`,
      }),
    );
    const titles = new Map([...res.winners, ...res.losers].map((p) => [p.id, p.title]));
    const won = el('ol', { class: 'budget-list', id: 'budget-winners' });
    for (const w of res.winners) {
      const item = el('li', { 'data-project': String(w.id), text: `${w.title} · ${tenge(w.cost_kzt)} · ${tx('votes', { n: formatNumber(w.votes, 0) })}` });
      item.append(mapButton(w.id));
      won.append(item);
    }
    root.append(el('h3', { text: tx('winners') }), won);
    const lost = el('ul', { class: 'budget-list', id: 'budget-losers' });
    for (const l of res.losers) {
      const item = el('li', { 'data-project': String(l.id), text: `${l.title} · ${tenge(l.cost_kzt)} · ${tx('votes', { n: formatNumber(l.votes, 0) })}` });
      item.append(mapButton(l.id), el('small', { class: 'budget-why', text: whyText(l, titles) }));
      lost.append(item);
    }
    root.append(el('h3', { text: tx('losers') }), lost);
    root.append(
      el('details', { class: 'budget-explain', id: 'budget-explain' }, el('summary', { text: tx('whyTitle') }), el('p', { text: tx(`explain.${res.rule}`) })),
    );
  }

  const isOpen = () => app.panel === 'budget';
  const current = () => state.cycles.find((c) => c.id === state.cycleId);
  // a resident writing an application keeps it: someone else's submission does not redraw
  // the form while anything is typed in it, a point is being picked or an area drawn, or a
  // place is chosen (a redraw made a new, empty form: the corners clicked so far were lost)
  const typing = () =>
    picker.active ||
    Boolean(root.querySelector('#budget-apply-point')?.textContent) ||
    [...root.querySelectorAll('#budget-apply-form input, #budget-apply-form textarea')].some((i) => i.value);
  toggle.addEventListener('click', () => {
    if (isOpen()) render();
  });
  onLangChange(() => {
    if (isOpen()) render();
  });
  // a phase change (anyone's, staff's own included) redraws the panel showing that cycle
  onLive('budget.cycle', (d) => {
    onMap.reload();
    if (isOpen() && d.id === state.cycleId) render();
  });
  // a new or reviewed application: the staff block's list of applications to review
  onLive('budget.application', (d) => {
    onMap.reload();
    if (!isOpen() || d.cycle_id !== state.cycleId) return;
    const cycle = state.cycles.find((c) => c.id === state.cycleId);
    if (staffBox && cycle) renderStaffBlock(cycle).catch(() => {});
    else if (cycle && ['applications', 'review'].includes(cycle.phase) && !typing()) render();
  });
  // the stream lost events: the staff block reloads (a full render would drop a resident's
  // unsent ticks; a missed phase change shows on the next opening)
  onLive('reset', () => {
    const cycle = state.cycles.find((c) => c.id === state.cycleId);
    if (isOpen() && staffBox && cycle) renderStaffBlock(cycle).catch(() => {});
  });
  return {
    render,
    /** The panel opened or closed: the map draws the selected cycle's projects, or all. */
    shown(open) {
      if (!open) {
        picker.active = false;
        picker.mode = 'point';
        app.map?.doubleClickZoom.enable();
        const panel = document.getElementById('budget-panel');
        if (panel?.classList.contains('budget-placing') && app.map) app.map.setPadding({ ...app.map.getPadding(), bottom: 0 });
        panel?.classList.remove('budget-placing');
        onMap.clear();
      } else if (current()) {
        getJSON(`/api/budget/cycles/${state.cycleId}/projects`)
          .then((all) => isOpen() && current() && onMap.show(current(), all))
          .catch(() => {});
      }
    },
    /** A map click while a point is being picked for an application: taken here. */
    handleClick(e) {
      if (!picker.active || !isOpen()) return false;
      if (picker.mode !== 'area') picker.active = false; // an area takes clicks until finished
      picker.onPick?.([Number(e.lngLat.lng.toFixed(6)), Number(e.lngLat.lat.toFixed(6))]);
      return true;
    },
    /** A double-click while an area is drawn closes it (the map does not zoom then). */
    handleDoubleClick() {
      if (!picker.active || picker.mode !== 'area' || !isOpen()) return false;
      picker.onFinish?.();
      return true;
    },
    /** The staff key was entered or forgotten (the staff block comes or goes), or a resident
     * signed in or out (the ballot opens or closes): an open panel renders again. */
    roleChanged: () => isOpen() && render(),
  };
}
