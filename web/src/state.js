// The view in the URL hash, so a link reproduces it:
// #map=zoom/lat/lon&layers=a,b&lang=kk&date=2024-05-01&district=Almaly&ind=density, then the
// analyses' own keys (panel=analysis&iso=…&access=…&schools=…&site=…, see analysis.js).

const DEFAULT_VIEW = { zoom: 11.2, lat: 43.2567, lon: 76.9286 };

export function readHash(hash = location.hash) {
  const p = new URLSearchParams(hash.replace(/^#/, ''));
  const out = {};
  const m = (p.get('map') || '').split('/').map(Number);
  if (m.length === 3 && m.every(Number.isFinite)) {
    out.zoom = Math.min(Math.max(m[0], 0), 22);
    out.lat = Math.min(Math.max(m[1], -85), 85);
    out.lon = Math.min(Math.max(m[2], -180), 180);
  }
  if (p.has('layers')) out.layers = p.get('layers').split(',').filter(Boolean);
  if (p.get('lang')) out.lang = p.get('lang');
  if (/^\d{4}-\d{2}-\d{2}$/.test(p.get('date') || '')) out.date = p.get('date');
  if (p.get('district')) out.district = p.get('district');
  if (p.get('ind')) out.ind = p.get('ind');
  out.params = p;
  return out;
}

export function initialView(state) {
  return {
    zoom: state.zoom ?? DEFAULT_VIEW.zoom,
    center: [state.lon ?? DEFAULT_VIEW.lon, state.lat ?? DEFAULT_VIEW.lat],
  };
}

/** Write the view to the hash without adding a history entry per pan. */
export function writeHash({ map, layers, lang, date, district, ind, extra = [] }) {
  const c = map.getCenter();
  const parts = [`map=${map.getZoom().toFixed(2)}/${c.lat.toFixed(5)}/${c.lng.toFixed(5)}`];
  if (layers) parts.push(`layers=${layers.map(encodeURIComponent).join(',')}`);
  if (lang) parts.push(`lang=${lang}`);
  if (date) parts.push(`date=${date}`);
  if (district) parts.push(`district=${encodeURIComponent(district)}`);
  if (ind) parts.push(`ind=${encodeURIComponent(ind)}`);
  for (const [k, v] of extra) {
    if (v !== null && v !== undefined && v !== '') parts.push(`${k}=${encodeURIComponent(v).replace(/%2C/g, ',')}`);
  }
  const hash = `#${parts.join('&')}`;
  if (hash !== location.hash) history.replaceState(history.state, '', hash);
}
