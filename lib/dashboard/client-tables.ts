/**
 * Browser-side tables of the dashboard: breakers, top keys by spend, per endpoint, per model, token
 * efficiency per structured task and errors by code. Plain ES2020 in a string; no template literals
 * or backslashes.
 */
export const TABLES_JS = `
/** A table with a row header per row; a cell is a string, a node or an array of them. */
function table(caption, columns, rows, emptyMessage) {
  if (!rows.length) return h('p', { class: 'none' }, emptyMessage);
  return h('table', { class: 'data' }, [
    h('caption', { class: 'sr-only' }, caption),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        columns.map((c) => h('th', { scope: 'col' }, c)),
      ),
    ),
    h(
      'tbody',
      {},
      rows.map((r) =>
        h(
          'tr',
          {},
          r.map((cell, i) => h(i === 0 ? 'th' : 'td', i === 0 ? { scope: 'row' } : {}, cell)),
        ),
      ),
    ),
  ]);
}
function put(id, node) {
  clear(document.getElementById(id)).appendChild(node);
}

function renderTables(m, b) {
  const ul = clear(document.getElementById('breakers'));
  (m.breakers || []).forEach((br) => {
    ul.appendChild(
      h('li', { 'data-breaker': br.name }, [
        h('code', {}, br.name),
        h('span', { class: 'pill st-' + br.state }, br.state.replace('_', '-')),
      ]),
    );
  });
  if (!(m.breakers || []).length) ul.appendChild(h('li', { class: 'none' }, 'No provider called yet'));

  put('top-keys', topKeys(b, m.budget.spent_usd));
  put(
    'by-endpoint',
    table(
      'Figures per endpoint',
      ['Endpoint', 'Requests', 'Calls', 'Success', 'Spend', 'p95'],
      (m.by_endpoint || []).map((e) => [
        h('code', {}, e.endpoint),
        fmtInt(e.requests),
        fmtInt(e.calls),
        fmtPct(e.success_rate),
        fmtUsd(e.cost_usd),
        fmtMs(e.p95_ms),
      ]),
      'No requests in this window',
    ),
  );
  put(
    'by-model',
    table(
      'Figures per model',
      ['Model', 'Calls', 'Success', 'Spend', 'Avg latency'],
      (m.by_model || []).map((e) => [
        [h('code', {}, e.model), h('span', { class: 'sub' }, e.provider)],
        fmtInt(e.calls),
        fmtPct(e.success_rate),
        fmtUsd(e.cost_usd),
        fmtMs(e.avg_latency_ms),
      ]),
      'No upstream calls in this window',
    ),
  );
  put('by-task', taskTable(m.by_task || []));
  put('errors', errorTable(m.requests.errors || {}, m.errors || {}));
}

/** Per structured task: what its calls billed and what one approved result cost (lib/metrics/tasks.ts). */
function taskTable(tasks) {
  const cell = (t, field, fmt) => figure('by_task.' + t.task + '.' + field, fmt, t[field]);
  return table(
    'Token efficiency per task',
    ['Task', 'Calls', 'Input tokens', 'Cached share', 'Output tokens', 'Reasoning tokens', 'Approved', 'Cost per approved'],
    tasks.map((t) => [
      h('code', {}, t.task),
      cell(t, 'calls', 'int'),
      cell(t, 'input_tokens', 'int'),
      cell(t, 'cached_share', 'pct'),
      cell(t, 'output_tokens', 'int'),
      cell(t, 'reasoning_tokens', 'int'),
      cell(t, 'approved_results', 'int'),
      cell(t, 'cost_per_approved_result', 'usd'),
    ]),
    'No structured task called in this window',
  );
}

/** Client-facing error codes (requests) beside failed upstream call outcomes (calls), most frequent first. */
function errorTable(requestErrors, callErrors) {
  const count = (c) => (requestErrors[c] || 0) + (callErrors[c] || 0);
  const codes = Object.keys(Object.assign({}, requestErrors, callErrors)).sort((a, z) => count(z) - count(a));
  const cell = (source, path, c) => (c in source ? figure(path + '.' + c, 'int', source[c]) : '—');
  return table(
    'Errors by code',
    ['Code', 'Requests', 'Upstream calls'],
    codes.map((c) => [
      h('code', {}, c),
      cell(requestErrors, 'requests.errors', c),
      cell(callErrors, 'errors', c),
    ]),
    'No errors in this window',
  );
}

/** Today's keys ordered by spend (from /v1/budget, admin view), the eight dearest. */
function topKeys(b, totalSpent) {
  if (!b) return h('p', { class: 'none' }, 'Unavailable: /v1/budget did not answer');
  const keys = (b.keys || [])
    .filter((k) => k.spent_usd > 0 || k.calls > 0)
    .sort((a, z) => z.spent_usd - a.spent_usd || z.calls - a.calls)
    .slice(0, 8);
  return table(
    'Top keys by spend today',
    ['Key', 'Spent', 'Limit', 'Calls'],
    keys.map((k) => {
      const share = totalSpent > 0 ? Math.min(1, k.spent_usd / totalSpent) : 0;
      const bar = h('span', { class: 'share', title: fmtPct(share) + " of today's spend" }, h('i'));
      bar.firstChild.style.width = share * 100 + '%';
      return [
        [k.name, k.revoked ? ' (revoked)' : null, h('code', { class: 'sub' }, k.id)],
        [figure('keys.' + k.id + '.spent_usd', 'usd', k.spent_usd, 'budget'), bar],
        k.limit_usd === null ? 'none' : fmtUsd(k.limit_usd),
        figure('keys.' + k.id + '.calls', 'int', k.calls, 'budget'),
      ];
    }),
    'No key has spent anything today',
  );
}
`;
