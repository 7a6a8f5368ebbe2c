/**
 * Browser-side helpers the other dashboard scripts share: number formatting and DOM builders.
 * Plain ES2020 in a string (the page inlines it under its CSP nonce); no template literals or
 * backslashes inside, so it passes through a TypeScript template unchanged. Text always goes in
 * through `textContent`, never `innerHTML`: key names, models and error codes come from users and
 * upstreams.
 */
export const FORMAT_JS = `
const SVGNS = 'http://www.w3.org/2000/svg';
const NUM = 'en-US';

/** USD with enough decimals to tell tiny costs apart: 2 from $1, 4 from 1 ¢, else 3 significant digits. */
function fmtUsd(x) {
  if (x === null || x === undefined) return '—';
  const a = Math.abs(x);
  const max = a === 0 || a >= 1 ? 2 : a >= 0.01 ? 4 : Math.min(10, 2 - Math.floor(Math.log10(a)));
  const min = a >= 0.01 || a === 0 ? 2 : 0;
  return (
    (x < 0 ? '-$' : '$') + a.toLocaleString(NUM, { minimumFractionDigits: min, maximumFractionDigits: max })
  );
}
/** A 0..1 ratio as a percentage with one decimal at most. */
function fmtPct(x) {
  if (x === null || x === undefined) return '—';
  return (x * 100).toLocaleString(NUM, { maximumFractionDigits: 1 }) + '%';
}
function fmtInt(x) {
  if (x === null || x === undefined) return '—';
  return Math.round(x).toLocaleString(NUM);
}
/** Milliseconds: whole from 100 ms, one decimal below. */
function fmtMs(x) {
  if (x === null || x === undefined) return '—';
  return x.toLocaleString(NUM, { maximumFractionDigits: x >= 100 ? 0 : 1 }) + ' ms';
}
function fmtText(x) {
  return x === null || x === undefined ? '—' : String(x);
}
const FMT = { usd: fmtUsd, pct: fmtPct, int: fmtInt, ms: fmtMs, text: fmtText };

/** Short axis labels: $1.2k, 3.4k, 12 ms. */
function compact(x, unit) {
  if (unit === 'usd') return x === 0 ? '$0' : fmtUsd(x);
  if (unit === 'pct') return Math.round(x * 100) + '%';
  const s =
    Math.abs(x) >= 1000 ? (x / 1000).toLocaleString(NUM, { maximumFractionDigits: 1 }) + 'k' : fmtIntOrDec(x);
  return unit === 'ms' ? s + ' ms' : s;
}
function fmtIntOrDec(x) {
  return x.toLocaleString(NUM, { maximumFractionDigits: x < 10 ? 1 : 0 });
}
function fmtClock(iso) {
  return new Date(iso).toLocaleTimeString(NUM, { hour: '2-digit', minute: '2-digit', hour12: false });
}
function fmtDay(day) {
  const d = new Date(day + 'T00:00:00Z');
  return Number.isNaN(d.getTime())
    ? day
    : d.toLocaleDateString(NUM, { month: 'short', day: 'numeric', timeZone: 'UTC' });
}

/** The value at a dotted path; an array step matches an element by its id or name. */
function pathGet(obj, path) {
  return path.split('.').reduce((o, k) => {
    if (o === null || o === undefined) return undefined;
    if (Array.isArray(o)) return o.find((e) => e.id === k || e.name === k || e.task === k);
    return o[k];
  }, obj);
}

/** An HTML element: attributes (null, undefined and false left out), children (strings become text). */
function h(tag, attrs, kids) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, kids);
  return el;
}
/** An SVG element, same conventions as h(). */
function s(tag, attrs, kids) {
  const el = document.createElementNS(SVGNS, tag);
  setAttrs(el, attrs);
  append(el, kids);
  return el;
}
function setAttrs(el, attrs) {
  for (const k in attrs || {}) {
    const v = attrs[k];
    if (v === null || v === undefined || v === false) continue;
    el.setAttribute(k, String(v));
  }
}
function append(el, kids) {
  [].concat(kids === undefined ? [] : kids).forEach((k) => {
    if (k === null || k === undefined || k === false) return;
    el.appendChild(typeof k === 'object' ? k : document.createTextNode(String(k)));
  });
}
/** A figure formatted for display, carrying its path and raw value for anyone who checks it. */
function figure(path, fmt, value, source) {
  return h(
    'span',
    {
      'data-metric': path,
      'data-fmt': fmt,
      'data-source': source,
      'data-value': value === undefined || value === null ? 'null' : String(value),
    },
    FMT[fmt](value),
  );
}
function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}
`;
