/**
 * The dashboard's static markup: the sign-in form and the empty dashboard the script fills.
 * Every figure a test compares carries `data-metric` (its path in `GET /v1/metrics`) and `data-fmt`
 * (how the script formats it: usd, pct, int, ms or text); the script also writes the raw value to
 * `data-value`.
 */

const metric = (path: string, fmt: string) => `<span data-metric="${path}" data-fmt="${fmt}">—</span>`;
/** `label <b>figure</b>` in a card's meta line. */
const item = (label: string, path: string, fmt: string) =>
  `<span>${label} <b>${metric(path, fmt)}</b></span>`;
/** A figure followed by a smaller `of <figure> <suffix>`. */
const ofFigure = (big: string, of: string, suffix = '') => `${big} <span class="of">of ${of}${suffix}</span>`;
/** A key-figure card: title, the big figure, `extra` (say, a bar), then a meta line. */
const kpi = (title: string, big: string, meta: string, { extra = '', metaId = '' } = {}) =>
  `<div class="card kpi"><h3>${title}</h3>\n<div class="big">${big}</div>${extra}\n` +
  `<div class="meta"${metaId ? ` id="${metaId}"` : ''}>${meta}</div></div>`;

const WINDOWS: [minutes: number, label: string][] = [
  [15, '15 min'],
  [60, '1 h'],
  [360, '6 h'],
  [1440, '24 h'],
];

const windowSelector = `<fieldset class="seg" id="window"><legend class="sr-only">Time window</legend>
${WINDOWS.map(
  ([m, label]) =>
    `<input type="radio" name="window" id="w${m}" value="${m}"${m === 60 ? ' checked' : ''}>` +
    `<label for="w${m}">${label}</label>`,
).join('')}</fieldset>`;

const HEADER = `<header class="topbar">
<div class="brand"><span class="logo" aria-hidden="true">◆</span><h1>commerce-ai-gateway</h1>
<span class="sub">dashboard</span>
<span id="status" class="pill" hidden>${metric('status', 'text')}</span></div>
<div class="controls" id="controls" hidden>
${windowSelector}
<span class="updated" aria-live="polite"><span id="refresh-state">Auto-refresh every 15 s</span>
· updated <time id="updated">—</time></span>
<button type="button" class="btn" id="pause" aria-pressed="false">Pause</button>
<button type="button" class="btn" id="refresh">Refresh now</button>
<button type="button" class="btn" id="signout">Sign out</button>
</div>
</header>`;

const LOGIN = `<section id="login" class="card login" aria-labelledby="login-title">
<h2 id="login-title">Open the dashboard</h2>
<p>Enter the gateway's admin key (<code>ADMIN_API_KEY</code>). It is kept in this browser tab only and sent
nowhere but this gateway's API, as a bearer header.</p>
<form id="login-form" method="post" action="#" novalidate>
<label for="admin-key">Admin key</label>
<input id="admin-key" name="admin-key" type="password" autocomplete="current-password" spellcheck="false"
required>
<button type="submit" class="btn primary">Open dashboard</button>
<p id="login-error" class="error" role="alert"></p>
</form>
</section>`;

const BUDGET_BAR = `<div class="bar" id="budget-bar" role="progressbar" aria-valuemin="0" aria-valuemax="100"
aria-label="Share of today's budget spent"><span class="fill"></span><span class="mark"></span></div>`;

const LATENCY = `<div class="card kpi"><h3>Latency</h3>
<table class="lat"><thead><tr><th scope="col"><span class="sr-only">Percentile</span></th>
<th scope="col">requests</th><th scope="col">upstream</th></tr></thead><tbody>
${['p50', 'p95', 'p99']
  .map(
    (p) =>
      `<tr><th scope="row">${p}</th><td>${metric(`requests.latency_ms.${p}`, 'ms')}</td>` +
      `<td>${metric(`latency_ms.${p}`, 'ms')}</td></tr>`,
  )
  .join('\n')}
</tbody></table></div>`;

const KPIS = `<h2 class="sr-only" id="key-figures">Key figures</h2>
<section class="kpis" aria-labelledby="key-figures">
${kpi(
  'Spend today',
  ofFigure(metric('budget.spent_usd', 'usd'), metric('budget.limit_usd', 'usd')),
  item('reserved', 'budget.reserved_usd', 'usd') +
    item('alert at', 'budget.alert_threshold_usd', 'usd') +
    '<span id="resets"></span>',
  { extra: BUDGET_BAR },
)}
${kpi(
  'Upstream calls',
  metric('total_calls', 'int'),
  item('ok', 'successful_calls', 'int') +
    item('retries', 'retries', 'int') +
    item('fallbacks', 'fallbacks', 'int') +
    item('repairs', 'repairs', 'int'),
)}
${kpi('Success rate', metric('success_rate', 'pct'), '', { metaId: 'error-summary' })}
${kpi(
  'Spend in window',
  metric('total_cost_usd', 'usd'),
  item('per success', 'cost_per_success', 'usd') +
    item('tokens in', 'tokens.input', 'int') +
    item('out', 'tokens.output', 'int'),
)}
${kpi(
  'Client requests',
  metric('requests.total', 'int'),
  ['2xx', '4xx', '5xx'].map((s) => item(s, `requests.by_status.${s}`, 'int')).join(''),
)}
${kpi(
  'Cache hit rate',
  metric('requests.cache_hit_rate', 'pct'),
  item('hits', 'requests.cache.HIT', 'int') +
    item('misses', 'requests.cache.MISS', 'int') +
    item('coalesced', 'requests.cache.COALESCED', 'int'),
)}
${kpi(
  'Moderation rejections',
  ofFigure(metric('moderation.rejected', 'int'), metric('moderation.checked', 'int'), ' checked'),
  item('rejection rate', 'moderation.rejection_rate', 'pct'),
)}
${LATENCY}
</section>`;

/** A card whose chart the script draws into `#<id>`; `legend` lists its series. */
const chartCard = (id: string, title: string, note = '') =>
  `<figure class="card chart-card" aria-labelledby="${id}-title">
<div class="chart-head"><h3 id="${id}-title">${title}</h3>
<span class="sub" id="${id}-note">${note}</span></div>
<div class="chart" id="${id}"></div><ul class="legend" id="${id}-legend"></ul></figure>`;

const CHARTS = `<h2 class="section-title" id="over-time">Over time</h2>
<section class="grid" aria-labelledby="over-time">
${chartCard('ch-requests', 'Requests and cache hits')}
${chartCard('ch-calls', 'Upstream calls')}
${chartCard('ch-success', 'Success rate')}
${chartCard('ch-latency', 'Upstream latency p95')}
${chartCard('ch-cost', 'Spend')}
${chartCard('ch-days', 'Spend by day', 'against the daily budget')}
</section>`;

const BREAKDOWNS = `<h2 class="section-title" id="breakdowns">Breakdowns</h2>
<section class="grid" aria-labelledby="breakdowns">
${chartCard('ch-cache', 'Cache outcomes')}
${chartCard('ch-moderation', 'Moderation rejections by layer')}
<div class="card chart-card"><h3>Circuit breakers</h3><ul class="breakers" id="breakers"></ul></div>
</section>
<section class="grid wide" aria-label="Tables">
<div class="card chart-card"><h3>Top keys by spend today</h3><div class="scroll" id="top-keys"></div></div>
<div class="card chart-card"><h3>Errors by code</h3><div class="scroll" id="errors"></div></div>
<div class="card chart-card"><h3>By endpoint</h3><div class="scroll" id="by-endpoint"></div></div>
<div class="card chart-card"><h3>By model</h3><div class="scroll" id="by-model"></div></div>
<div class="card chart-card span-all"><h3>Token efficiency per task</h3><div class="scroll" id="by-task"></div></div>
</section>`;

/** The `<body>` contents, scripts excluded. */
export const DASHBOARD_BODY = `<a class="skip" href="#main">Skip to content</a>
${HEADER}
<main id="main">
${LOGIN}
<div id="dashboard" hidden aria-busy="true">
<div id="banner" class="banner" role="status" hidden></div>
${KPIS}
${CHARTS}
${BREAKDOWNS}
</div>
<noscript><p class="card">This dashboard needs JavaScript.</p></noscript>
</main>`;
