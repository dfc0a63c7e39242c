// The participatory budget for staff (issue 17, item 7), inside the budget panel once a
// planner or admin key is entered (as for the appeals and moderation panels): the selected
// cycle's applications to review (feasible or not, with a reason and a checked cost), the
// button that moves the cycle to its next phase, and turnout by district. The results are the
// panel's own (everyone sees them once voting is over). It reloads itself from the live
// stream when an application is submitted or reviewed anywhere (budget.js listens).

import { getJSON, postJSON } from './api.js';
import { formatNumber } from './format.js';
import { lang } from './i18n.js';
import { h } from './panel.js';

const TEXT = {
  staff: ['Для сотрудников', 'Қызметкерлерге', 'For staff'],
  advance: ['Перевести на этап «{phase}»', '«{phase}» кезеңіне көшіру', 'Move to the phase “{phase}”'],
  lastPhase: ['Цикл завершён', 'Цикл аяқталды', 'The cycle is done'],
  review: ['Заявки на экспертизу', 'Сараптамаға өтінімдер', 'Applications to review'],
  reviewNone: ['Заявок на экспертизу нет', 'Сараптамаға өтінім жоқ', 'No applications to review'],
  reviewClosed: ['Экспертиза закрыта на этапе «{phase}»', '«{phase}» кезеңінде сараптама жабық', 'Review is closed in the phase “{phase}”'],
  estimated: ['оценка заявителя', 'өтініш берушінің бағасы', 'applicant’s estimate'],
  checked: ['Проверенная стоимость, ₸', 'Тексерілген құны, ₸', 'Checked cost, ₸'],
  reason: ['Заключение (видно жителям)', 'Қорытынды (тұрғындарға көрінеді)', 'Finding (residents see it)'],
  feasible: ['Реализуемо', 'Жүзеге асыруға болады', 'Feasible'],
  notFeasible: ['Нереализуемо', 'Жүзеге асыруға болмайды', 'Not feasible'],
  reviewed: ['Заявка №{id}: {status}', '№{id} өтінім: {status}', 'Application #{id}: {status}'],
  accepted: ['в бюллетене', 'бюллетеньде', 'on the ballot'],
  rejected: ['отклонена', 'қабылданбады', 'rejected'],
  turnout: ['Явка по районам', 'Аудандар бойынша қатысу', 'Turnout by district'],
  district: ['Район', 'Аудан', 'District'],
  ballots: ['Бюллетеней', 'Бюллетеньдер', 'Ballots'],
  total: ['Всего', 'Барлығы', 'Total'],
  // the categories of twin/budget/service.py's CATEGORIES
  'cat.yards': ['Благоустройство дворов', 'Аулаларды абаттандыру', 'Courtyards'],
  'cat.playgrounds': ['Детские площадки', 'Балалар алаңдары', 'Playgrounds'],
  'cat.lighting': ['Освещение', 'Жарықтандыру', 'Lighting'],
  'cat.sport': ['Спорт', 'Спорт', 'Sport'],
  'cat.greening': ['Озеленение', 'Көгалдандыру', 'Greening'],
  'cat.sidewalks': ['Тротуары', 'Тротуарлар', 'Sidewalks'],
  'cat.accessibility': ['Доступная среда', 'Қолжетімді орта', 'Accessibility'],
  'cat.safety': ['Безопасность', 'Қауіпсіздік', 'Safety'],
};

function tx(key, vars = {}) {
  const i = { ru: 0, kk: 1, en: 2 }[lang()] ?? 0;
  const words = TEXT[key] ? TEXT[key][i] : key.replace(/^cat\./, '');
  return words.replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ''));
}

const PHASES = ['applications', 'review', 'voting', 'results', 'implementation', 'done'];

/**
 * Render the staff block of `cycle` into `into` (a container the panel owns).
 * ctx: { tx: the panel's words, tenge, districtName, changed(): the cycle changed
 * (re-render the whole panel), reloadStaff(message): re-render this block, message: to show }.
 * The panel copies what staff were typing into the new block when it swaps it in.
 */
export async function renderStaff(into, cycle, ctx) {
  const status = h('p', { id: 'budget-staff-status', role: 'status', text: ctx.message || '' });
  const show = (text, alert = false) => {
    status.textContent = text;
    if (alert) status.setAttribute('role', 'alert');
    else status.setAttribute('role', 'status');
  };
  const attempt = async (fn) => {
    show('');
    try {
      await fn();
    } catch (err) {
      show(err.message, true);
    }
  };

  // the phase, and the button to the next one
  const at = PHASES.indexOf(cycle.phase);
  const next = PHASES[at + 1];
  const phaseBlock = next
    ? h('button', {
        id: 'budget-advance',
        type: 'button',
        class: 'btn btn-small',
        'data-next': next,
        text: tx('advance', { phase: ctx.tx(`phase.${next}`) }),
        onclick: () =>
          attempt(async () => {
            await postJSON(`/api/budget/cycles/${cycle.id}/advance`, {});
            await ctx.changed();
          }),
      })
    : h('p', { class: 'hint', text: tx('lastPhase') });

  // applications to review
  const reviewParts = [h('h4', { text: tx('review') })];
  if (['applications', 'review'].includes(cycle.phase)) {
    const pending = await getJSON(`/api/budget/cycles/${cycle.id}/projects`, { status: 'submitted' });
    if (!pending.length) reviewParts.push(h('p', { class: 'hint', id: 'budget-review-none', text: tx('reviewNone') }));
    else {
      reviewParts.push(
        h(
          'ul',
          { id: 'budget-review', class: 'budget-review' },
          pending.map((p) => {
            const decide = (feasible) =>
              attempt(async () => {
                const cost = Number(document.getElementById(`budget-cost-${p.id}`)?.value);
                const body = { feasible, reason: document.getElementById(`budget-reason-${p.id}`)?.value || '' };
                if (feasible) body.checked_cost_kzt = Number.isFinite(cost) ? Math.round(cost) : null;
                const done = await postJSON(`/api/budget/projects/${p.id}/review`, body);
                await ctx.reloadStaff(tx('reviewed', { id: done.id, status: tx(done.status) }));
              });
            return h(
              'li',
              { 'data-app': String(p.id) },
              h('strong', { text: `№${p.id} ${p.title}` }),
              h('span', { class: 'hint', text: ` · ${tx(`cat.${p.category}`)} · ${tx('estimated')}: ${ctx.tenge(p.estimated_cost_kzt)}` }),
              p.description ? h('p', { text: p.description }) : null,
              h(
                'label',
                { class: 'field', for: `budget-cost-${p.id}` },
                h('span', { text: tx('checked') }),
                h('input', { id: `budget-cost-${p.id}`, type: 'number', min: 1, step: 1, value: String(p.estimated_cost_kzt) }),
              ),
              h(
                'label',
                { class: 'field', for: `budget-reason-${p.id}` },
                h('span', { text: tx('reason') }),
                h('input', { id: `budget-reason-${p.id}`, maxlength: 5000, value: '' }),
              ),
              h('button', { type: 'button', class: 'btn btn-small', 'data-feasible': 'true', text: tx('feasible'), onclick: () => decide(true) }),
              h('button', { type: 'button', class: 'btn btn-small', 'data-feasible': 'false', text: tx('notFeasible'), onclick: () => decide(false) }),
            );
          }),
        ),
      );
    }
  } else reviewParts.push(h('p', { class: 'hint', text: tx('reviewClosed', { phase: ctx.tx(`phase.${cycle.phase}`) }) }));

  // turnout by district, for the cycle's year (ballots only: never who approved what)
  const all = await getJSON('/api/budget/turnout');
  const rows = all.filter((r) => r.year === cycle.year).sort((a, b) => b.ballots - a.ballots || a.district.localeCompare(b.district));
  const most = Math.max(1, ...rows.map((r) => r.ballots));
  const total = rows.reduce((s, r) => s + r.ballots, 0);
  const number = (n) => formatNumber(n, 0);
  const turnout = h(
    'table',
    { id: 'budget-turnout', class: 'budget-turnout' },
    h('caption', { text: `${tx('turnout')} · ${cycle.year}` }),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: tx('district') }), h('th', { scope: 'col', text: ctx.tx('phase') }), h('th', { scope: 'col', text: tx('ballots') }))),
    h(
      'tbody',
      {},
      rows.map((r) =>
        h(
          'tr',
          { 'data-cycle': String(r.cycle_id), 'data-ballots': String(r.ballots) },
          h('th', { scope: 'row', text: ctx.districtName(r.district) }),
          h('td', { text: ctx.tx(`phase.${r.phase}`) }),
          h(
            'td',
            { class: 'budget-turnout-n' },
            h('span', { class: 'budget-bar', style: `width:${Math.round((100 * r.ballots) / most)}%`, 'aria-hidden': 'true' }),
            h('span', { text: number(r.ballots) }),
          ),
        ),
      ),
    ),
    h('tfoot', {}, h('tr', {}, h('th', { scope: 'row', text: tx('total') }), h('td', {}), h('td', { text: number(total) }))),
  );

  into.replaceChildren(h('h3', { text: tx('staff') }), phaseBlock, status, ...reviewParts, turnout);
}
