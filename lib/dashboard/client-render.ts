/**
 * Browser-side rendering of one `GET /v1/metrics` answer (m) into the dashboard's figures, budget
 * bar and charts over time; `renderCharts` also calls the breakdowns (client-breakdowns.ts) with
 * the `GET /v1/budget` answer (b, or null when it failed). Plain ES2020 in a string; no template
 * literals or backslashes.
 */
export const RENDER_JS = `
/**
 * Series entries merged into at most 60 buckets (only a minute series is ever longer); a bucket covers
 * its entries' minutes (an entry of an hourly series covers up to an hour); p95 is its worst entry's.
 */
function buckets(series) {
  const size = Math.max(1, Math.ceil(series.length / 60));
  const out = [];
  for (let i = 0; i < series.length; i += size) {
    const part = series.slice(i, i + size);
    const sum = (k) => part.reduce((t, p) => t + (p[k] || 0), 0);
    const p95s = part.map((p) => p.p95_ms).filter((v) => typeof v === 'number');
    out.push({
      from: part[0].minute,
      size: part.reduce((t, p) => t + (p.minutes || 1), 0),
      requests: sum('requests'),
      calls: sum('calls'),
      successes: sum('successes'),
      cost: sum('cost_usd'),
      hits: sum('cache_hits'),
      p95: p95s.length ? Math.max(...p95s) : null,
    });
  }
  return out;
}

function renderFigures(m) {
  document.querySelectorAll('[data-metric]:not([data-source])').forEach((el) => {
    const v = pathGet(m, el.getAttribute('data-metric'));
    el.textContent = FMT[el.getAttribute('data-fmt')](v);
    el.setAttribute('data-value', v === undefined || v === null ? 'null' : String(v));
  });
  const pill = document.getElementById('status');
  pill.className = 'pill st-' + m.status;
  pill.hidden = false;
}

function renderBudget(m) {
  const bd = m.budget;
  const bar = document.getElementById('budget-bar');
  const used = bd.limit_usd > 0 ? bd.spent_usd / bd.limit_usd : 0;
  const fill = bar.querySelector('.fill');
  const mark = bar.querySelector('.mark');
  fill.style.width = Math.min(100, used * 100) + '%';
  fill.className =
    'fill' + (bd.spent_usd >= bd.limit_usd ? ' over' : bd.spent_usd >= bd.alert_threshold_usd ? ' warn' : '');
  mark.style.left = Math.min(100, (bd.alert_threshold_usd / bd.limit_usd) * 100) + '%';
  mark.hidden = !(bd.alert_threshold_usd < bd.limit_usd);
  bar.setAttribute('aria-valuenow', (used * 100).toFixed(1));
  bar.setAttribute('aria-valuetext', fmtPct(used) + ' of the daily budget');
  document.getElementById('resets').textContent = 'resets ' + fmtClock(bd.resets_at);
  const failed = m.total_calls - m.successful_calls;
  const codes = Object.keys(m.errors || {})
    .sort((a, z) => m.errors[z] - m.errors[a])
    .slice(0, 2);
  clear(document.getElementById('error-summary')).append(
    h('span', {}, ['failed ', h('b', {}, fmtInt(failed))]),
    codes.length ? h('span', {}, codes.map((c) => c + ' ×' + m.errors[c]).join(', ')) : '',
  );
}

function renderCharts(m, b) {
  const bk = buckets(m.series || []);
  const labels = bk.map((x) => fmtClock(x.from));
  const hourly = (m.series || []).some((p) => p.minutes > 1);
  const merged = !hourly && bk.length && bk[0].size > 1;
  const per = hourly ? 'per hour' : merged ? 'per ' + bk[0].size + ' min' : 'per minute';
  const tip = (i, text) => labels[i] + (bk[i].size > 1 ? ' (+' + bk[i].size + ' min)' : '') + ': ' + text;
  ['ch-requests', 'ch-calls', 'ch-success', 'ch-cost'].forEach((id) => {
    document.getElementById(id + '-note').textContent = per;
  });
  document.getElementById('ch-latency-note').textContent = merged ? 'worst minute ' + per : per;
  if (!bk.length) {
    ['ch-requests', 'ch-calls', 'ch-success', 'ch-latency', 'ch-cost'].forEach((id) => {
      emptyChart(document.getElementById(id), 'No data in this window');
    });
  } else {
    const col = (k) => bk.map((x) => x[k]);
    barChart(document.getElementById('ch-requests'), {
      labels,
      unit: 'int',
      summary: 'Requests per bucket: ' + m.requests.total + ' in total',
      series: [
        { cls: 'c-hit', values: col('hits') },
        {
          cls: 'c-req',
          values: bk.map((x) => Math.max(0, x.requests - x.hits)),
        },
      ],
      tips: (i) => tip(i, bk[i].requests + ' requests, ' + bk[i].hits + ' cache hits'),
    });
    barChart(document.getElementById('ch-calls'), {
      labels,
      unit: 'int',
      summary: 'Upstream calls per bucket: ' + m.total_calls + ' in total',
      series: [
        { cls: 'c-ok', values: col('successes') },
        {
          cls: 'c-fail',
          values: bk.map((x) => Math.max(0, x.calls - x.successes)),
        },
      ],
      tips: (i) => tip(i, bk[i].calls + ' calls, ' + bk[i].successes + ' succeeded'),
    });
    const rates = bk.map((x) => (x.calls ? x.successes / x.calls : null));
    lineChart(document.getElementById('ch-success'), {
      labels,
      unit: 'pct',
      max: 1,
      summary: 'Success rate over time; overall ' + fmtPct(m.success_rate),
      series: [{ cls: 'c-ok', values: rates }],
      tips: (i) => tip(i, rates[i] === null ? 'no calls' : fmtPct(rates[i])),
    });
    lineChart(document.getElementById('ch-latency'), {
      labels,
      unit: 'ms',
      summary: 'Upstream p95 latency over time; overall ' + fmtMs(m.latency_ms.p95),
      series: [{ cls: 'c-lat', values: col('p95') }],
      tips: (i) => tip(i, 'p95 ' + fmtMs(bk[i].p95)),
    });
    barChart(document.getElementById('ch-cost'), {
      labels,
      unit: 'usd',
      summary: 'Spend per bucket: ' + fmtUsd(m.total_cost_usd) + ' in total',
      series: [{ cls: 'c-cost', values: col('cost') }],
      tips: (i) => tip(i, fmtUsd(bk[i].cost)),
    });
  }
  legend('ch-requests', [
    { cls: 'c-req', label: 'requests', total: fmtInt(m.requests.total) },
    { cls: 'c-hit', label: 'cache hits', total: fmtInt(m.requests.cache.HIT) },
  ]);
  legend('ch-calls', [
    { cls: 'c-ok', label: 'succeeded', total: fmtInt(m.successful_calls) },
    { cls: 'c-fail', label: 'failed', total: fmtInt(m.total_calls - m.successful_calls) },
  ]);
  legend('ch-success', [{ cls: 'c-ok', label: 'success rate', total: fmtPct(m.success_rate) }]);
  legend('ch-latency', [{ cls: 'c-lat', label: 'p95', total: fmtMs(m.latency_ms.p95) }]);
  legend('ch-cost', [{ cls: 'c-cost', label: 'spend', total: fmtUsd(m.total_cost_usd) }]);
  renderDays(m, b);
  renderBreakdownCharts(m);
}
`;
