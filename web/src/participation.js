// Residents take part on the map: an account (sign up with a code, sign in, sign out), a
// rating block on the card of every ratable feature (stars, review, like/dislike, the
// residents' aggregate and reviews), residents' initiatives as a map layer with their own card
// (support, report), proposing one by clicking the map, and the live stream (/api/events) that
// updates open cards and the initiatives layer in every open map without a reload.
//
// Residents' text is only ever put on the page as text (textContent through h()), never as
// HTML. Writes go with the session cookie and its CSRF token, never with a staff key.

import { ApiError, getJSON, hasKey, postJSON, sendForm, sendJSON as call } from './api.js';
import { openCustomCard, rerenderCard, cardKind } from './card.js';
import { formatNumber } from './format.js';
import { t } from './i18n.js';
import { onLive } from './live.js';
import { h, keepValues, keyForm } from './panel.js';

const CATEGORIES = ['improvement', 'greenery', 'roads', 'transport', 'lighting', 'safety', 'accessibility', 'sport', 'other'];
const SOURCE = 'twin-initiatives';
export const PHOTO_TYPES = 'image/jpeg,image/png,image/webp';

export function setupParticipation(app) {
  let account = null;
  let mode = 'signin'; // signin | signup | verify
  let pendingLogin = '';
  let message = '';
  let proposing = null; // null | 'click' | {lngLat}
  const cache = new Map(); // "layer/fid" -> {aggregate, reviews, mine}
  let initiatives = { type: 'FeatureCollection', features: [] };
  let byRating = false; // works coloured by residents' mean rating (feature-state)
  let workRatings = {}; // fid -> mean
  const originalColors = new Map(); // style layer id -> its own fill colour

  const toggle = h('button', {
    id: 'account-toggle',
    type: 'button',
    class: 'btn btn-icon',
    'aria-controls': 'account-box',
    'aria-expanded': 'false',
    onclick: () => show(box.hidden),
  });
  const box = h('div', { id: 'account-box', class: 'account-box', role: 'dialog', 'aria-labelledby': 'account-title', hidden: true });
  document.getElementById('lang-select').before(toggle);
  document.body.append(box);

  function show(open) {
    box.hidden = !open;
    toggle.setAttribute('aria-expanded', String(open));
    if (open) {
      render();
      box.querySelector('input, select, button')?.focus();
    }
  }

  function field(id, label, attrs = {}) {
    return h('label', { class: 'field', for: id }, h('span', { text: label }), h('input', { id, ...attrs }));
  }

  function value(id) {
    return document.getElementById(id)?.value ?? '';
  }

  async function attempt(fn) {
    message = '';
    try {
      await fn();
    } catch (e) {
      message = e instanceof ApiError ? e.message : String(e);
    }
    render();
  }

  // -- the moderators' queue (staff signed in with their key, as for planners) ---------
  let queue = null; // null: not loaded; else the reported items

  async function loadQueue() {
    queue = (await getJSON('/api/moderation/queue')).items;
  }

  async function decide(item, decision) {
    const reason = document.getElementById(`mod-reason-${item.kind}-${item.id}`)?.value || '';
    await postJSON(`/api/moderation/${item.kind}/${item.id}`, { decision, reason });
    await loadQueue();
  }

  function moderationBlock() {
    const parts = [h('h3', { text: t('p.modQueue') })];
    if (queue === null) {
      parts.push(h('button', { id: 'mod-load', type: 'button', class: 'btn btn-small', text: t('p.modLoad'), onclick: () => attempt(loadQueue) }));
    } else if (!queue.length) parts.push(h('p', { class: 'hint', text: t('p.modEmpty') }));
    else {
      parts.push(
        h(
          'ul',
          { id: 'mod-queue', class: 'reviews' },
          queue.map((item) =>
            h(
              'li',
              { 'data-kind': item.kind, 'data-id': String(item.id), 'data-hidden': String(Boolean(item.hidden)) },
              h('strong', { text: `${t(`p.modKind.${item.kind}`)} №${item.id} · ${t('p.modReports', { n: item.reports })}${item.hidden ? ' · ' + t('p.modHidden') : ''}` }),
              h('p', { text: item.title || item.review || item.text || '' }),
              h('label', { class: 'field', for: `mod-reason-${item.kind}-${item.id}` }, h('span', { text: t('p.modReason') }), h('input', { id: `mod-reason-${item.kind}-${item.id}`, maxlength: 1000, required: true })),
              h('button', { type: 'button', class: 'btn btn-small', 'data-decision': 'hide', text: t('p.modHide'), onclick: () => attempt(() => decide(item, 'hide')) }),
              h('button', { type: 'button', class: 'btn btn-small', 'data-decision': 'restore', text: t('p.modRestore'), onclick: () => attempt(() => decide(item, 'restore')) }),
            ),
          ),
        ),
      );
    }
    return h('section', { id: 'moderation', 'aria-label': t('p.modQueue') }, parts);
  }

  function render() {
    toggle.textContent = account ? account.display_name || account.login : t('p.account');
    const parts = [h('h2', { id: 'account-title', text: account ? t('p.signedIn', { name: account.display_name || account.login }) : t('p.account') })];
    if (account) {
      if (proposing && proposing.lngLat) parts.push(proposeForm());
      else if (proposing === 'click') parts.push(h('p', { class: 'hint', role: 'status', text: t('p.clickMap') }));
      else parts.push(h('button', { id: 'propose', type: 'button', class: 'btn', text: t('p.propose'), onclick: () => startProposing() }));
      parts.push(h('button', { id: 'signout', type: 'button', class: 'btn btn-small', text: t('p.signout'), onclick: () => attempt(signOut) }));
    } else if (mode === 'verify') {
      parts.push(
        h('p', { class: 'hint', text: t('p.codeSent', { login: pendingLogin }) }),
        h(
          'form',
          { onsubmit: (e) => (e.preventDefault(), attempt(verify)) },
          field('p-code', t('p.code'), { inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: 6, required: true }),
          h('button', { type: 'submit', class: 'btn', text: t('p.verify') }),
        ),
      );
    } else {
      const signup = mode === 'signup';
      parts.push(
        h(
          'form',
          { onsubmit: (e) => (e.preventDefault(), attempt(signup ? signUp : signIn)) },
          field('p-login', t('p.login'), { autocomplete: 'username', required: true, maxlength: 320 }),
          field('p-password', t('p.password'), {
            type: 'password',
            autocomplete: signup ? 'new-password' : 'current-password',
            required: true,
            minlength: 8,
          }),
          signup ? field('p-name', t('p.name'), { maxlength: 80 }) : null,
          h('button', { type: 'submit', id: signup ? 'signup' : 'signin', class: 'btn', text: signup ? t('p.signup') : t('p.signin') }),
        ),
        h('button', {
          type: 'button',
          class: 'btn btn-small btn-link',
          text: signup ? t('p.toSignin') : t('p.toSignup'),
          onclick: () => ((mode = signup ? 'signin' : 'signup'), (message = ''), render()),
        }),
      );
    }
    parts.push(
      h('label', { class: 'check', for: 'p-by-rating' },
        h('input', { id: 'p-by-rating', type: 'checkbox', checked: byRating, onchange: (e) => setByRating(e.target.checked).catch(() => {}) }),
        h('span', { text: t('p.byRating') }),
      ),
    );
    if (hasKey()) parts.push(moderationBlock());
    if (message) parts.push(h('p', { class: 'error', role: 'alert', text: message }));
    // Staff sign in with a key, not an account: the form is here too, where one looks to sign in.
    parts.push(
      h(
        'section',
        { class: 'staff-key', 'aria-labelledby': 'staff-key-title' },
        h('h3', { id: 'staff-key-title', text: t('key.staff') }),
        keyForm(app, { id: 'account-key', cls: 'staff-key-form', intro: () => t('key.staff.intro') }),
      ),
    );
    box.replaceChildren(...parts);
  }

  async function signIn() {
    const r = await call('POST', '/api/accounts/signin', { login: value('p-login'), password: value('p-password') });
    signedIn(r.account);
  }

  async function signUp() {
    const r = await call('POST', '/api/accounts/signup', {
      login: value('p-login'),
      password: value('p-password'),
      display_name: value('p-name') || null,
    });
    pendingLogin = r.account.login;
    mode = 'verify';
  }

  async function verify() {
    const r = await call('POST', '/api/accounts/verify', { login: pendingLogin, code: value('p-code').trim() });
    signedIn(r.account);
  }

  async function signOut() {
    await call('POST', '/api/accounts/signout');
    account = null;
    mode = 'signin';
    for (const entry of cache.values()) delete entry.mine;
    rerenderCard(app);
    app.analyses?.roleChanged(); // a business's own tools come and go with its account
    app.budget?.roleChanged(); // an open budget panel's ballot closes
  }

  function signedIn(a) {
    account = a;
    mode = 'signin';
    cache.clear();
    rerenderCard(app);
    app.analyses?.roleChanged();
    app.budget?.roleChanged(); // an open budget panel's ballot opens where the resident is
  }

  // -- the rating block on a feature's card ---------------------------------------------
  function key(layer, fid) {
    return `${layer}/${fid}`;
  }

  async function load(layer, fid) {
    const data = await call('GET', `/api/participation/${encodeURIComponent(layer)}/${encodeURIComponent(fid)}`);
    cache.set(key(layer, fid), data);
    rerenderCard(app);
  }

  function summaryText(agg) {
    if (!agg || !agg.count) return t('p.noRatings');
    return t('p.summary', { mean: formatNumber(agg.mean, 1), count: agg.count });
  }

  function ratingBlock(card) {
    const layer = card.layerId;
    const fid = card.fid;
    const k = key(layer, fid);
    const data = cache.get(k);
    if (!data) {
      load(layer, fid).catch(() => {});
      return h('section', { class: 'rate-block', 'data-loading': 'true' }, h('h3', { text: t('p.rateTitle') }));
    }
    const agg = data.aggregate;
    const mine = data.mine || { rating: null, reaction: null };
    const write = (method, path, body) =>
      attempt(async () => {
        const r = await call(method, `/api/participation/${encodeURIComponent(layer)}/${encodeURIComponent(fid)}/${path}`, body);
        data.aggregate = r.aggregate;
        await load(layer, fid);
      }).then(() => rerenderCard(app));
    const parts = [
      h('h3', { text: t('p.rateTitle') }),
      h(
        'p',
        { id: 'rate-summary', class: 'rate-summary', 'data-count': agg.count, 'data-mean': agg.mean ?? '' },
        summaryText(agg),
        ` · 👍 ${agg.likes} · 👎 ${agg.dislikes}`,
      ),
    ];
    if (account) {
      const stars = mine.rating?.stars ?? 0;
      parts.push(
        h(
          'div',
          { class: 'stars', role: 'group', 'aria-label': t('p.rateTitle') },
          [1, 2, 3, 4, 5].map((n) =>
            h('button', {
              type: 'button',
              class: `btn btn-star${n <= stars ? ' on' : ''}`,
              'data-stars': n,
              'aria-pressed': String(n === stars),
              'aria-label': t('p.star', { n }),
              text: n <= stars ? '★' : '☆',
              onclick: () => write('PUT', 'rating', { stars: n, review: value('rate-review') || mine.rating?.review || null }),
            }),
          ),
        ),
        h(
          'div',
          { class: 'reactions' },
          ['like', 'dislike'].map((r) =>
            h('button', {
              type: 'button',
              class: 'btn btn-small',
              id: `react-${r}`,
              'aria-pressed': String(mine.reaction === r),
              text: `${r === 'like' ? '👍' : '👎'} ${t(`p.${r}`)}`,
              onclick: () => (mine.reaction === r ? write('DELETE', 'reaction') : write('PUT', 'reaction', { reaction: r })),
            }),
          ),
        ),
      );
      if (stars) {
        parts.push(
          h('label', { class: 'field', for: 'rate-review' }, h('span', { text: t('p.review') }), h('textarea', { id: 'rate-review', maxlength: 2000, rows: 2 })),
          h('button', {
            type: 'button',
            id: 'rate-send',
            class: 'btn btn-small',
            text: t('p.send'),
            onclick: () => write('PUT', 'rating', { stars, review: value('rate-review') || null }),
          }),
          h('button', { type: 'button', class: 'btn btn-small btn-link', text: t('p.withdraw'), onclick: () => write('DELETE', 'rating') }),
        );
      }
    } else {
      parts.push(h('button', { type: 'button', class: 'btn btn-small', text: t('p.signInToRate'), onclick: () => show(true) }));
    }
    if (data.reviews?.length) {
      parts.push(
        h(
          'ul',
          { class: 'reviews' },
          data.reviews.map((r) =>
            h('li', { 'data-review': r.id }, h('strong', { text: `${'★'.repeat(r.stars)} ${r.author || t('p.anonymous')}` }), h('p', { text: r.review })),
          ),
        ),
      );
    }
    return h('section', { class: 'rate-block' }, parts);
  }

  // -- initiatives ------------------------------------------------------------------------
  function addLayers(map) {
    originalColors.clear();
    if (byRating) paintRatings();
    if (!map.getSource(SOURCE)) map.addSource(SOURCE, { type: 'geojson', data: initiatives, promoteId: 'id' });
    if (!map.getLayer('twin-initiatives-area')) {
      map.addLayer({
        id: 'twin-initiatives-area',
        type: 'fill',
        source: SOURCE,
        filter: ['==', ['geometry-type'], 'Polygon'],
        paint: { 'fill-color': '#00897b', 'fill-opacity': 0.3, 'fill-outline-color': '#00695c' },
      });
      map.addLayer({
        id: 'twin-initiatives',
        type: 'circle',
        source: SOURCE,
        filter: ['==', ['geometry-type'], 'Point'],
        paint: { 'circle-color': '#00897b', 'circle-radius': 7, 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 2 },
      });
    }
  }

  async function loadInitiatives() {
    initiatives = await call('GET', '/api/initiatives');
    app.map.getSource(SOURCE)?.setData(initiatives);
  }

  function upsertInitiative(feature) {
    const others = initiatives.features.filter((f) => f.id !== feature.id);
    initiatives = { ...initiatives, features: [feature, ...others] };
    app.map.getSource(SOURCE)?.setData(initiatives);
  }

  function openInitiative(id, focus = false) {
    let feature = initiatives.features.find((f) => f.id === id);
    if (!feature) return;
    const body = () => {
      feature = initiatives.features.find((f) => f.id === id) || feature;
      const p = feature.properties;
      return [
        h('p', { class: 'initiative-text', text: p.text }),
        (p.photos || []).length
          ? h('div', { class: 'photos' }, p.photos.map((src, i) => h('img', { src, alt: t('p.photoAlt', { n: i + 1 }), loading: 'lazy', class: 'photo' })))
          : null,
        h('dl', { class: 'props' }, [
          h('dt', { text: t('p.category') }),
          h('dd', { text: t(`p.cat.${p.category}`) }),
          h('dt', { text: t('p.status') }),
          h('dd', { text: t(`p.status.${p.status}`) + (p.status_reason ? ` — ${p.status_reason}` : '') }),
        ]),
        h('p', { id: 'initiative-supports', text: t('p.supports', { n: p.supports }) }),
        account
          ? h(
              'div',
              { class: 'card-actions' },
              h('button', {
                type: 'button',
                class: 'btn btn-small',
                text: t('p.support'),
                onclick: () =>
                  attempt(async () => {
                    const r = await call('POST', `/api/initiatives/${id}/support`);
                    p.supports = r.supports;
                  }).then(() => rerenderCard(app)),
              }),
              h('button', {
                type: 'button',
                class: 'btn btn-small btn-link',
                text: t('p.report'),
                onclick: () =>
                  attempt(async () => {
                    await call('POST', '/api/reports', { kind: 'initiative', id, reason: 'other' });
                    message = t('p.reported');
                  }),
              }),
            )
          : null,
      ];
    };
    openCustomCard(app, {
      kind: 'initiative',
      id,
      eyebrow: () => t('p.initiative'),
      title: () => feature.properties.title,
      body,
      geometry: feature.geometry,
      focus,
    });
  }

  function startProposing() {
    proposing = 'click';
    app.map.getCanvas().style.cursor = 'crosshair';
    render();
  }

  function proposeForm() {
    return h(
      'form',
      { id: 'propose-form', onsubmit: (e) => (e.preventDefault(), attempt(propose)) },
      h(
        'label',
        { class: 'field', for: 'p-category' },
        h('span', { text: t('p.category') }),
        h('select', { id: 'p-category' }, CATEGORIES.map((c) => h('option', { value: c, text: t(`p.cat.${c}`) }))),
      ),
      field('p-title', t('p.title'), { required: true, maxlength: 200 }),
      h('label', { class: 'field', for: 'p-text' }, h('span', { text: t('p.text') }), h('textarea', { id: 'p-text', required: true, maxlength: 5000, rows: 3 })),
      h('label', { class: 'field', for: 'p-photo' }, h('span', { text: t('p.photo') }), h('input', { id: 'p-photo', type: 'file', accept: PHOTO_TYPES })),
      h('button', { type: 'submit', class: 'btn', text: t('p.submit') }),
      h('button', { type: 'button', class: 'btn btn-small btn-link', text: t('p.cancel'), onclick: () => ((proposing = null), render()) }),
    );
  }

  async function propose() {
    const { lng, lat } = proposing.lngLat;
    const photos = [];
    const chosen = document.getElementById('p-photo')?.files?.[0];
    if (chosen) {
      const form = new FormData();
      form.append('photo', chosen);
      photos.push((await sendForm('/api/photos', form)).name);
    }
    const r = await call('POST', '/api/initiatives', {
      category: value('p-category'),
      title: value('p-title'),
      text: value('p-text'),
      photos,
      geometry: { type: 'Point', coordinates: [Number(lng.toFixed(6)), Number(lat.toFixed(6))] },
    });
    proposing = null;
    upsertInitiative(r.initiative);
    message = r.similar.length ? t('p.similar', { n: r.similar.length }) : '';
    openInitiative(r.initiative.id, false);
  }

  /** Take a map click when proposing, or when an initiative was clicked; true if taken. */
  function handleClick(e) {
    if (proposing === 'click') {
      proposing = { lngLat: e.lngLat };
      app.map.getCanvas().style.cursor = '';
      show(true);
      return true;
    }
    const hit = app.map.queryRenderedFeatures(e.point, { layers: ['twin-initiatives', 'twin-initiatives-area'].filter((l) => app.map.getLayer(l)) })[0];
    if (hit) {
      openInitiative(Number(hit.id ?? hit.properties.id));
      return true;
    }
    return false;
  }

  // -- works coloured by residents' rating (feature state over the works tiles) ---------
  const RAMP = ['interpolate', ['linear'], ['feature-state', 'rating'], 1, '#d32f2f', 3, '#fbc02d', 5, '#2e7d32'];

  function workLayers() {
    const entry = app.entries?.find((e) => e.id === 'works');
    return (entry?.styleLayers || []).filter((id) => app.map.getLayer(id)?.type === 'fill');
  }

  function paintRatings() {
    const map = app.map;
    for (const id of workLayers()) {
      const layer = map.getLayer(id);
      if (!originalColors.has(id)) originalColors.set(id, map.getPaintProperty(id, 'fill-color'));
      const own = originalColors.get(id);
      map.setPaintProperty(id, 'fill-color', byRating ? ['case', ['!=', ['feature-state', 'rating'], null], RAMP, '#9e9e9e'] : own);
      if (!byRating) continue;
      for (const [fid, mean] of Object.entries(workRatings)) {
        map.setFeatureState({ source: layer.source, sourceLayer: layer.sourceLayer, id: Number(fid) }, { rating: mean });
      }
    }
  }

  async function setByRating(on) {
    byRating = on;
    if (on) {
      const r = await call('GET', '/api/participation/works');
      workRatings = Object.fromEntries(Object.entries(r.aggregates).map(([fid, a]) => [fid, a.mean]));
    }
    paintRatings();
    render();
  }

  function ratingChanged(layer, fid, aggregate) {
    if (layer !== 'works' || !byRating) return;
    workRatings[fid] = aggregate.mean;
    for (const id of workLayers()) {
      const l = app.map.getLayer(id);
      app.map.setFeatureState({ source: l.source, sourceLayer: l.sourceLayer, id: Number(fid) }, { rating: aggregate.mean });
    }
  }

  // -- live (the map's one shared stream, live.js) --------------------------------------
  function listen() {
    const onAggregate = (d) => {
      ratingChanged(d.layer, d.fid, d.aggregate);
      const entry = cache.get(key(d.layer, d.fid));
      if (!entry) return;
      entry.aggregate = d.aggregate;
      rerenderCard(app);
      // reviews may have changed too: refetch the open card's
      load(d.layer, d.fid).catch(() => {});
    };
    onLive('participation.rating', onAggregate);
    onLive('participation.reaction', onAggregate);
    onLive('participation.initiative', (d) => {
      if (d.initiative) upsertInitiative(d.initiative);
      else if (d.id !== undefined) {
        const f = initiatives.features.find((x) => x.id === d.id);
        if (f) {
          if (d.supports !== undefined) f.properties.supports = d.supports;
          if (d.status) f.properties.status = d.status;
          if (cardKind() === 'initiative') rerenderCard(app);
        }
      }
    });
    onLive('reset', () => loadInitiatives().catch(() => {}));
    // a report or a decision anywhere: a moderator's loaded queue reloads itself, keeping the
    // reasons being typed (the event names nothing; the queue is read with the key)
    onLive('moderation', () => {
      if (queue === null || !hasKey()) return;
      loadQueue()
        .then(() => {
          const restore = keepValues(box, '[id^="mod-reason-"]');
          render();
          restore();
        })
        .catch(() => {});
    });
  }

  async function start() {
    addLayers(app.map);
    try {
      account = (await call('GET', '/api/accounts/session')).account;
    } catch {
      account = null;
    }
    if (account) app.analyses?.roleChanged();
    render();
    loadInitiatives().catch(() => {});
    listen();
  }

  return {
    start,
    addLayers,
    handleClick,
    rerender: render,
    hoverLayers: () => ['twin-initiatives', 'twin-initiatives-area'].filter((l) => app.map.getLayer(l)),
    cardBlock(card) {
      if (card.custom || card.fid === null || card.fid === undefined) return null;
      if (!app.catalogLayer(card.layerId)?.ratable) return null;
      return ratingBlock(card);
    },
    get account() {
      return account;
    },
  };
}
