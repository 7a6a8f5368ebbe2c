/**
 * Browser-side SVG charts of parts for the dashboard: a donut (cache outcomes) and horizontal bars
 * (moderation rejections by layer), using the frame helpers of client-charts.ts. Plain ES2020 in a
 * string; no template literals or backslashes.
 */
export const PARTS_JS = `
/** A donut of parts. items: [{ label, value, cls }]; the text center is written in its middle. */
function donut(el, items, center, summary) {
  const total = items.reduce((t, it) => t + it.value, 0);
  if (!total) return emptyChart(el, 'No cacheable requests in this window');
  const w = Math.max(280, Math.round(el.clientWidth || 400));
  const svg = s('svg', { viewBox: '0 0 ' + w + ' ' + CHART_H, role: 'img', 'aria-label': summary });
  const [R, r, cx, cy] = [70, 46, w / 2, CHART_H / 2];
  let a0 = -Math.PI / 2;
  items.forEach((it) => {
    if (!it.value) return;
    const a1 = a0 + (it.value / total) * Math.PI * 2 - (it.value === total ? 0.0001 : 0);
    const big = a1 - a0 > Math.PI ? 1 : 0;
    const p = (rad, a) => (cx + rad * Math.cos(a)).toFixed(2) + ' ' + (cy + rad * Math.sin(a)).toFixed(2);
    const arc = (rad, to, sweep) => ['A', rad, rad, 0, big, sweep, p(rad, to)].join(' ');
    const d = 'M ' + p(R, a0) + ' ' + arc(R, a1, 1) + ' L ' + p(r, a1) + ' ' + arc(r, a0, 0) + ' Z';
    svg.appendChild(
      s('path', { class: it.cls, d }, [
        s('title', {}, it.label + ': ' + fmtInt(it.value) + ' (' + fmtPct(it.value / total) + ')'),
      ]),
    );
    a0 = a1;
  });
  svg.appendChild(s('text', { x: cx, y: cy + 2, 'text-anchor': 'middle', class: 'donut-big' }, center));
  svg.appendChild(s('text', { x: cx, y: cy + 18, 'text-anchor': 'middle' }, 'hit rate'));
  clear(el).appendChild(svg);
}

/** Horizontal bars with their figures. items: [{ label, value, cls, metric }]. */
function hbars(el, items, emptyMessage) {
  const max = items.reduce((m, it) => Math.max(m, it.value || 0), 0);
  const w = Math.max(280, Math.round(el.clientWidth || 480));
  const [rowH, labelW, numW] = [34, 150, 50];
  const H = Math.max(CHART_H, items.length * rowH + 10);
  const svg = s('svg', {
    viewBox: '0 0 ' + w + ' ' + H,
    role: 'img',
    'aria-label':
      emptyMessage && !max ? emptyMessage : items.map((it) => it.label + ' ' + it.value).join(', '),
  });
  const bw = w - labelW - numW - 10;
  items.forEach((it, i) => {
    const y = 10 + i * rowH;
    svg.appendChild(s('text', { class: 'hlabel', x: 0, y: y + 15 }, it.label));
    svg.appendChild(s('rect', { class: 'track', x: labelW, y: y + 4, width: bw, height: 14, rx: 3 }));
    if (it.value > 0)
      svg.appendChild(
        s('rect', {
          class: it.cls,
          x: labelW,
          y: y + 4,
          width: Math.max(2, (it.value / max) * bw),
          height: 14,
          rx: 3,
        }),
      );
    svg.appendChild(
      s(
        'text',
        {
          x: w,
          y: y + 15,
          'text-anchor': 'end',
          class: 'hnum',
          'data-metric': it.metric,
          'data-fmt': it.metric ? 'int' : null,
          'data-value': it.metric ? it.value : null,
        },
        fmtInt(it.value),
      ),
    );
  });
  if (emptyMessage && !max)
    svg.appendChild(
      s('text', { class: 'empty', x: w / 2, y: H - 14, 'text-anchor': 'middle' }, emptyMessage),
    );
  clear(el).appendChild(svg);
}
`;
