/**
 * Browser-side SVG charts over time for the dashboard, drawn with the DOM builders of
 * client-format.ts: stacked bars and lines with gaps, on a shared frame. Each chart is an
 * `svg role="img"` with a summary label, a native `<title>` tooltip per bucket, and an HTML legend
 * with the totals. Plain ES2020 in a string; no template literals or backslashes.
 */
export const CHARTS_JS = `
const CHART_H = 170;
const PAD = { l: 56, r: 10, t: 10, b: 22 };

/** The first of 1, 2, 3, 4, 5, 6, 8, 10 × 10^n at or above v; half of it (the middle gridline) is round. */
function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  const m = [1, 2, 3, 4, 5, 6, 8, 10].find((c) => c * p >= v * (1 - 1e-9));
  return m * p;
}

/** An empty frame with gridlines, y labels and up to three x labels; returns its geometry. */
function frame(el, o) {
  const w = Math.max(280, Math.round(el.clientWidth || 480));
  const svg = s('svg', { viewBox: '0 0 ' + w + ' ' + CHART_H, role: 'img', 'aria-label': o.summary });
  const pw = w - PAD.l - PAD.r;
  const ph = CHART_H - PAD.t - PAD.b;
  const g = {
    svg,
    w,
    x0: PAD.l,
    y0: PAD.t,
    pw: pw,
    ph: ph,
    max: o.max,
    y: (v) => PAD.t + ph - (v / o.max) * ph,
  };
  [0, 0.5, 1].forEach((f) => {
    const y = g.y(o.max * f);
    svg.appendChild(
      s('line', { class: f === 0 ? 'baseline' : 'gridline', x1: PAD.l, x2: w - PAD.r, y1: y, y2: y }),
    );
    svg.appendChild(s('text', { x: PAD.l - 6, y: y + 4, 'text-anchor': 'end' }, compact(o.max * f, o.unit)));
  });
  const n = o.labels.length;
  const picks = n <= 1 ? [0] : n === 2 ? [0, 1] : [0, Math.floor((n - 1) / 2), n - 1];
  picks.forEach((i, j) => {
    const anchor =
      picks.length === 1 ? 'middle' : j === 0 ? 'start' : j === picks.length - 1 ? 'end' : 'middle';
    const x =
      picks.length === 1
        ? PAD.l + pw / 2
        : j === 0
          ? PAD.l
          : j === picks.length - 1
            ? w - PAD.r
            : PAD.l + ((i + 0.5) / n) * pw;
    svg.appendChild(s('text', { x, y: CHART_H - 6, 'text-anchor': anchor }, o.labels[i]));
  });
  clear(el).appendChild(svg);
  return g;
}

function emptyChart(el, message) {
  const svg = s('svg', { viewBox: '0 0 400 ' + CHART_H, role: 'img', 'aria-label': message });
  svg.appendChild(s('text', { class: 'empty', x: 200, y: CHART_H / 2, 'text-anchor': 'middle' }, message));
  clear(el).appendChild(svg);
}

function legend(id, items) {
  const ul = clear(document.getElementById(id + '-legend'));
  items.forEach((it) => {
    ul.appendChild(
      h('li', {}, [
        h('span', { class: 'sw ' + it.cls, 'aria-hidden': 'true' }),
        it.label + ' ',
        it.total !== undefined ? h('b', {}, it.total) : null,
      ]),
    );
  });
}

/**
 * Bars per bucket, stacked bottom-up in series order. o: { labels, series: [{ cls, label, values }],
 * unit, summary, tips: i → tooltip text, refs: [{ value, cls, label }] horizontal reference lines }.
 */
function barChart(el, o) {
  const totals = o.labels.map((_, i) => o.series.reduce((t, sr) => t + (sr.values[i] || 0), 0));
  const refMax = (o.refs || []).reduce((m, r) => Math.max(m, r.value || 0), 0);
  const g = frame(el, {
    labels: o.labels,
    unit: o.unit,
    summary: o.summary,
    max: niceMax(Math.max(refMax, ...totals)),
  });
  const n = o.labels.length;
  const slot = g.pw / n;
  const bw = Math.max(1, Math.min(28, slot * 0.72));
  for (let i = 0; i < n; i++) {
    const x = g.x0 + i * slot + (slot - bw) / 2;
    let base = 0;
    o.series.forEach((sr) => {
      const v = sr.values[i] || 0;
      if (v <= 0) return;
      g.svg.appendChild(
        s('rect', {
          class: sr.cls,
          x,
          width: bw,
          y: g.y(base + v),
          height: Math.max(2, g.y(base) - g.y(base + v)),
          rx: bw > 6 ? 2 : 0,
        }),
      );
      base += v;
    });
    g.svg.appendChild(
      s('rect', { class: 'hover', x: g.x0 + i * slot, width: slot, y: g.y0, height: g.ph }, [
        s('title', {}, o.tips(i)),
      ]),
    );
  }
  (o.refs || []).forEach((r) => {
    if (!(r.value > 0)) return;
    const y = g.y(r.value);
    g.svg.appendChild(
      s('line', { class: 'ref ' + r.cls, x1: g.x0, x2: g.x0 + g.pw, y1: y, y2: y }, [
        s('title', {}, r.label),
      ]),
    );
  });
}

/** Lines over buckets; null values leave gaps. o: { labels, series, unit, summary, tips, max }. */
function lineChart(el, o) {
  const all = o.series.flatMap((sr) => sr.values).filter((v) => v !== null);
  const g = frame(el, {
    labels: o.labels,
    unit: o.unit,
    summary: o.summary,
    max: o.max || niceMax(Math.max(0, ...all)),
  });
  const n = o.labels.length;
  const slot = g.pw / n;
  const cx = (i) => g.x0 + (i + 0.5) * slot;
  o.series.forEach((sr) => {
    let d = '';
    let open = false;
    sr.values.forEach((v, i) => {
      if (v === null) {
        open = false;
        return;
      }
      d += (open ? 'L' : 'M') + cx(i).toFixed(1) + ' ' + g.y(v).toFixed(1);
      open = true;
    });
    if (d) g.svg.appendChild(s('path', { class: 'line ' + sr.cls, d }));
    sr.values.forEach((v, i) => {
      if (v !== null && (n <= 40 || isolated(sr.values, i)))
        g.svg.appendChild(s('circle', { class: sr.cls, cx: cx(i), cy: g.y(v), r: 3 }));
    });
  });
  for (let i = 0; i < n; i++) {
    g.svg.appendChild(
      s('rect', { class: 'hover', x: g.x0 + i * slot, width: slot, y: g.y0, height: g.ph }, [
        s('title', {}, o.tips(i)),
      ]),
    );
  }
}
function isolated(values, i) {
  return (i === 0 || values[i - 1] === null) && (i === values.length - 1 || values[i + 1] === null);
}
`;
