// The Open311 service list (the appeals' categories, each with its city service) in the
// interface language, loaded once per language and shared: the resident's filing form and
// hexagon filter, and the staff's hot-spot and forecast views all ask for the same list, and
// every one of them had its own copy of the request, its error handling and the check that
// the answer is still in the language on screen.

import { publicJSON } from './api.js';
import { lang } from './i18n.js';

const cache = { lang: null, list: null, pending: null };

/** The service list in the interface language: one request per language however many ask;
 * rejects when the server cannot answer (a failure is not kept: the next call asks again). */
export function appealServices() {
  const want = lang();
  if (cache.lang === want && cache.list) return Promise.resolve(cache.list);
  if (cache.lang === want && cache.pending) return cache.pending;
  cache.lang = want;
  cache.list = null;
  const pending = publicJSON('/open311/v2/services.json', { lang: want })
    .then((list) => {
      if (cache.pending === pending) cache.list = list;
      return list;
    })
    .finally(() => {
      if (cache.pending === pending) cache.pending = null;
    });
  cache.pending = pending;
  pending.catch(() => {
    if (cache.lang === want && !cache.list) cache.lang = null;
  });
  return pending;
}

/** The list already loaded in the interface language, or [] (to draw a form before it comes). */
export function loadedServices() {
  return cache.lang === lang() && cache.list ? cache.list : [];
}

/** Put the list in the interface language into a view's `state.services` (and the language in
 * `state.servicesLang`) and redraw it; an answer that arrives after the language changed is
 * dropped, and a failure leaves the view an empty list (it asks again when next shown). */
export async function loadServicesInto(state, rerender) {
  const want = lang();
  if (state.servicesLang === want) return;
  let list;
  try {
    list = await appealServices();
  } catch {
    list = null;
  }
  if (want !== lang()) return;
  state.services = list ?? [];
  state.servicesLang = list ? want : null;
  rerender();
}
