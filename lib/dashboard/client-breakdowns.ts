/**
 * Browser-side rendering of the dashboard's breakdown charts: spend by day against the budget
 * (history from `GET /v1/budget`, today from `GET /v1/metrics`), cache outcomes and moderation
 * rejections by layer. Plain ES2020 in a string; no template literals or backslashes.
 */
export const BREAKDOWNS_JS = `
const LAYER_LABELS = {
  openai: 'OpenAI moderation',
  business_rules: 'Business rules',
  brand_safety: 'Brand safety',
};

/** The last two weeks of archived days, then today so far. */
function renderDays(m, b) {
  const today = m.budget;
  const past = (b?.history ?? [])
    .filter((d) => d.day !== today.day)
    .slice(0, 13)
    .reverse();
  const days = past
    .map((d) => ({ day: d.day, spent: d.spent_usd, calls: d.calls }))
    .concat([{ day: today.day, spent: today.spent_usd, calls: null }]);
  barChart(document.getElementById('ch-days'), {
    labels: days.map((d) => fmtDay(d.day)),
    unit: 'usd',
    summary: 'Spend by day; today ' + fmtUsd(today.spent_usd) + ' of ' + fmtUsd(today.limit_usd),
    series: [
      {
        cls: 'c-cost',
        values: days.map((d, i) => (i < days.length - 1 ? d.spent : 0)),
      },
      {
        cls: 'c-today',
        values: days.map((d, i) => (i === days.length - 1 ? d.spent : 0)),
      },
    ],
    refs: [
      { value: today.limit_usd, cls: 'c-limit', label: 'daily budget ' + fmtUsd(today.limit_usd) },
      {
        value: today.alert_threshold_usd,
        cls: 'c-alert',
        label: 'alert threshold ' + fmtUsd(today.alert_threshold_usd),
      },
    ],
    tips: (i) =>
      days[i].day +
      ': ' +
      fmtUsd(days[i].spent) +
      (days[i].calls === null ? ' so far' : ', ' + fmtInt(days[i].calls) + ' calls'),
  });
  legend('ch-days', [
    { cls: 'c-today', label: 'today', total: fmtUsd(today.spent_usd) },
    { cls: 'c-cost', label: 'past days' },
    { cls: 'c-limit', label: 'budget', total: fmtUsd(today.limit_usd) },
    { cls: 'c-alert', label: 'alert', total: fmtUsd(today.alert_threshold_usd) },
  ]);
}

function renderBreakdownCharts(m) {
  const c = m.requests.cache;
  const parts = [
    { key: 'HIT', label: 'hit', cls: 'c-hit' },
    { key: 'COALESCED', label: 'coalesced', cls: 'c-coal' },
    { key: 'MISS', label: 'miss', cls: 'c-miss' },
    { key: 'BYPASS', label: 'bypass', cls: 'c-bypass' },
  ].map((p) => ({ label: p.label, cls: p.cls, value: c[p.key] || 0, total: fmtInt(c[p.key] || 0) }));
  donut(
    document.getElementById('ch-cache'),
    parts,
    fmtPct(m.requests.cache_hit_rate),
    'Cache outcomes; hit rate ' + fmtPct(m.requests.cache_hit_rate),
  );
  legend('ch-cache', parts);
  const byLayer = m.moderation.rejected_by_layer || {};
  const layers = Object.keys(Object.assign({ business_rules: 0, brand_safety: 0, openai: 0 }, byLayer)).map(
    (k) => ({
      label: LAYER_LABELS[k] || k,
      value: byLayer[k] || 0,
      cls: 'c-fail',
      metric: 'moderation.rejected_by_layer.' + k,
    }),
  );
  hbars(document.getElementById('ch-moderation'), layers, 'Nothing rejected in this window');
  legend('ch-moderation', [
    {
      cls: 'c-fail',
      label: 'rejected ' + fmtInt(m.moderation.rejected) + ' of ' + fmtInt(m.moderation.checked) + ' checked',
    },
  ]);
}
`;
