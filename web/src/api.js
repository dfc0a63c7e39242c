// Talking to our own server: JSON requests with the planner key, and the map's request hook.

const KEY_STORAGE = 'twin.key';

function readKey() {
  try {
    return sessionStorage.getItem(KEY_STORAGE) || '';
  } catch {
    return '';
  }
}

let apiKey = readKey();

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.detail || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export function hasKey() {
  return Boolean(apiKey);
}

/** Keep the planner key for this browser tab only (sessionStorage), or forget it. */
export function setKey(key) {
  apiKey = key || '';
  try {
    if (apiKey) sessionStorage.setItem(KEY_STORAGE, apiKey);
    else sessionStorage.removeItem(KEY_STORAGE);
  } catch {
    /* storage may be disabled: the key then lasts until the page is closed */
  }
}

export function authHeaders(key = apiKey) {
  return key ? { Authorization: `Bearer ${key}` } : {};
}

/** The signed-in resident's CSRF token (the readable twin_csrf cookie), which every write
 * authenticated by the session cookie must echo in X-CSRF-Token. */
export function csrfHeaders() {
  const m = document.cookie.match(/(?:^|;\s*)twin_csrf=([^;]+)/);
  return m ? { 'X-CSRF-Token': decodeURIComponent(m[1]) } : {};
}

/** The URL of `path` on our server with `params` as its query (empty values left out). */
function apiUrl(path, params) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, v);
  }
  return url;
}

/** GET a JSON document from our server; throws ApiError on a non-2xx answer. */
export async function getJSON(path, params = {}, { key = apiKey, signal, credentials = 'same-origin' } = {}) {
  const url = apiUrl(path, params);
  const response = await fetch(url, {
    headers: { Accept: 'application/json', ...authHeaders(key) },
    credentials,
    signal,
  });
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

/** GET what every visitor of the public map gets, as they get it: no key, no cookie. The map's
 * business panel asks for the city's ranking, niches and catchments this way, so a business
 * signed in to the map does not spend its plan's quota (issue 21) on what is free to all;
 * its quota is for its API calls and what only a business gets (its addresses, reports,
 * premium analytics). */
export function publicJSON(path, params = {}, { signal } = {}) {
  return getJSON(path, params, { key: '', signal, credentials: 'omit' });
}

/** POST a JSON body to our server; returns the JSON answer or throws ApiError. */
export async function postJSON(path, body, { key = apiKey, signal } = {}) {
  const response = await fetch(new URL(path, location.origin), {
    method: 'POST',
    headers: {
      Accept: 'application/json',
      'Content-Type': 'application/json',
      ...csrfHeaders(),
      ...authHeaders(key),
    },
    body: JSON.stringify(body),
    signal,
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

/** A resident's request: the session cookie, with the CSRF token on writes and no staff key;
 * returns the JSON answer or throws ApiError (Open311's [{code, description}] errors included). */
export async function sendJSON(method, path, body) {
  const headers = { Accept: 'application/json', ...(method === 'GET' ? {} : csrfHeaders()) };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(new URL(path, location.origin), {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let answer = null;
  try {
    answer = await response.json();
  } catch {
    answer = null;
  }
  if (!response.ok) {
    const detail = Array.isArray(answer) ? { detail: answer[0]?.description } : answer;
    throw new ApiError(response.status, detail);
  }
  return answer;
}

/** A resident's multipart upload (a photo, an appeal with its photo): the session cookie and
 * the CSRF token; the browser sets the multipart boundary. Answers as sendJSON. */
export async function sendForm(path, form) {
  const response = await fetch(new URL(path, location.origin), {
    method: 'POST',
    headers: { Accept: 'application/json', ...csrfHeaders() },
    credentials: 'same-origin',
    body: form,
  });
  let answer = null;
  try {
    answer = await response.json();
  } catch {
    answer = null;
  }
  if (!response.ok) {
    const detail = Array.isArray(answer) ? { detail: answer[0]?.description } : answer;
    throw new ApiError(response.status, detail);
  }
  return answer;
}

/** The Response of `fetch(url, init)` when it is a 2xx; else throws ApiError with the problem
 * body the server answered (null when it is not JSON). For answers that are not JSON documents
 * (files, a CSV, a PDF), which are read only once they are known to be good. */
async function fetchOk(url, init) {
  const response = await fetch(url, init);
  if (!response.ok) {
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    throw new ApiError(response.status, body);
  }
  return response;
}

/** GET a file (a GeoTIFF, a GeoJSON export) from our server as a Blob, with the key. */
export async function getBlob(path, { key = apiKey } = {}) {
  const response = await fetchOk(new URL(path, location.origin), { headers: authHeaders(key) });
  return response.blob();
}

/** GET a file to save from our server, with the key: its Blob and the name the server gives it
 * (Content-Disposition), else `fallback`. Throws ApiError on a non-2xx answer. */
export async function getFile(path, params = {}, fallback = 'download') {
  const url = apiUrl(path, params);
  const response = await fetchOk(url, { headers: authHeaders() });
  const named = /filename="([^"]+)"/.exec(response.headers.get('Content-Disposition') || '');
  return { blob: await response.blob(), name: named ? named[1] : fallback };
}

/** MapLibre's transformRequest: send the planner key with requests to our own server only. */
export function transformRequest(url) {
  if (apiKey && url.startsWith(location.origin)) {
    return { url, headers: authHeaders() };
  }
  return { url };
}

/** True when the key in use is an organisation's (twb_…): a business signed in by key. */
export function hasOrgKey() {
  return apiKey.startsWith('twb_');
}

/** A business's request (issue 21): its organisation key if one is in use, else the session
 * cookie with the CSRF token on writes. Returns the Response; throws ApiError on a non-2xx. */
export async function businessFetch(method, path, params = {}, body = undefined, headers = {}) {
  const url = apiUrl(path, params);
  return fetchOk(url, {
    method,
    headers: { ...headers, ...(method === 'GET' ? {} : csrfHeaders()), ...authHeaders() },
    credentials: 'same-origin',
    body,
  });
}
