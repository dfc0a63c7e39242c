// Small SVG line charts drawn by hand: one highlighted series over faint context series.

const NS = 'http://www.w3.org/2000/svg';

function el(name, attrs = {}, parent) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

/**
 * series: [{points: [{x, y}], kind: 'main' | 'average' | 'other', name}]
 * Returns an <svg> with role="img" and the given accessible label.
 */
export function lineChart(series, { width = 320, height = 120, label = '', format = String } = {}) {
  const pad = { left: 44, right: 8, top: 8, bottom: 20 };
  const pts = series.flatMap((s) => s.points.filter((p) => p.y !== null && p.y !== undefined));
  const svg = el('svg', {
    viewBox: `0 0 ${width} ${height}`,
    width: '100%',
    class: 'chart',
    role: 'img',
    'aria-label': label,
  });
  if (!pts.length) return svg;
  const xs = pts.map((p) => p.x);
  const ys = pts.map((p) => p.y);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (y0 === y1) [y0, y1] = [y0 - 1, y1 + 1];
  const sx = (x) => pad.left + ((x - x0) / (x1 - x0 || 1)) * (width - pad.left - pad.right);
  const sy = (y) => pad.top + (1 - (y - y0) / (y1 - y0)) * (height - pad.top - pad.bottom);

  const axis = el('g', { class: 'chart-axis', 'aria-hidden': 'true' }, svg);
  for (const y of [y0, y1]) {
    el('line', { x1: pad.left, x2: width - pad.right, y1: sy(y), y2: sy(y) }, axis);
    const text = el('text', { x: pad.left - 4, y: sy(y) + 4, 'text-anchor': 'end' }, axis);
    text.textContent = format(y);
  }
  for (const x of [x0, x1]) {
    const text = el('text', { x: sx(x), y: height - 4, 'text-anchor': x === x0 ? 'start' : 'end' }, axis);
    text.textContent = String(x);
  }

  const order = { other: 0, average: 1, main: 2 };
  for (const s of [...series].sort((a, b) => order[a.kind] - order[b.kind])) {
    const d = s.points
      .filter((p) => p.y !== null && p.y !== undefined)
      .map((p, i) => `${i ? 'L' : 'M'}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`)
      .join('');
    if (!d) continue;
    const path = el('path', { d, class: `chart-line chart-${s.kind}` }, svg);
    if (s.name) el('title', {}, path).textContent = s.name;
    if (s.kind === 'main') {
      for (const p of s.points) {
        if (p.y === null || p.y === undefined) continue;
        el('circle', { cx: sx(p.x), cy: sy(p.y), r: 2.5, class: 'chart-dot' }, svg);
      }
    }
  }
  return svg;
}
