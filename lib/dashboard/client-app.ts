/**
 * Browser-side controller of the dashboard: sign-in with the admin key (kept in sessionStorage, sent
 * only as a bearer header to this origin's API), loading `/v1/metrics` and `/v1/budget`, the window
 * selector, auto-refresh with pause, and re-drawing on resize. Plain ES2020 in a string; no template
 * literals or backslashes.
 */
export const APP_JS = `
const KEY_STORE = 'cag.dashboard.adminKey';
const WINDOW_STORE = 'cag.dashboard.minutes';
const REFRESH_MS = 15000;
const st = {
  key: sessionStorage.getItem(KEY_STORE),
  minutes: Number(sessionStorage.getItem(WINDOW_STORE)) || 60,
  paused: false,
  last: null,
  loads: 0,
};
const byId = (id) => document.getElementById(id);

/** GET one of our own endpoints; rejects with the API's error message and status. */
function api(path) {
  return fetch(path, {
    headers: { authorization: 'Bearer ' + st.key, accept: 'application/json' },
    cache: 'no-store',
    credentials: 'omit',
    referrerPolicy: 'no-referrer',
  }).then((res) =>
    res
      .json()
      .catch(() => null)
      .then((body) => {
        if (res.ok) return body;
        const err = new Error(body?.error?.message ?? 'HTTP ' + res.status);
        err.status = res.status;
        throw err;
      }),
  );
}

function load() {
  if (!st.key) return Promise.resolve();
  const dash = byId('dashboard');
  dash.setAttribute('aria-busy', 'true');
  // Metrics first, then the budget: /v1/budget is itself a metered request, so asking for it only
  // once the metrics are read keeps this refresh's own read out of the figures it shows.
  return api('/v1/metrics?minutes=' + st.minutes)
    .then((m) =>
      api('/v1/budget')
        .catch((e) => ({ failed: e }))
        .then((b) => [m, b]),
    )
    .then((r) => {
      const b = r[1].failed ? null : r[1];
      st.last = { m: r[0], b };
      showDashboard();
      render(r[0], b);
      banner(b ? null : 'Budget history and keys unavailable: ' + r[1].failed.message);
      stamp();
    })
    .catch((e) => {
      const onDashboard = !dash.hidden;
      if (e.status === 401 || e.status === 403 || !onDashboard) return signOut(e.message || String(e));
      banner(
        'Could not refresh: ' +
          (e.message || e) +
          ' — showing the figures from ' +
          byId('updated').textContent +
          '.',
      );
    })
    .finally(() => {
      dash.setAttribute('aria-busy', 'false');
    });
}

function render(m, b) {
  renderFigures(m);
  renderBudget(m);
  renderCharts(m, b);
  renderTables(m, b);
}

function showDashboard() {
  sessionStorage.setItem(KEY_STORE, st.key);
  byId('admin-key').value = '';
  byId('login').hidden = true;
  byId('dashboard').hidden = false;
  byId('controls').hidden = false;
}

function signOut(message) {
  st.key = null;
  st.last = null;
  sessionStorage.removeItem(KEY_STORE);
  byId('dashboard').hidden = true;
  byId('controls').hidden = true;
  byId('status').hidden = true;
  byId('login').hidden = false;
  byId('login-error').textContent = message || '';
  byId('admin-key').focus();
}

function banner(text) {
  const el = byId('banner');
  el.hidden = !text;
  el.textContent = text || '';
}

function stamp() {
  const now = new Date();
  const t = byId('updated');
  t.textContent = now.toLocaleTimeString(NUM, { hour12: false });
  t.setAttribute('datetime', now.toISOString());
  st.loads += 1;
  document.body.setAttribute('data-loads', String(st.loads));
  document.body.setAttribute('data-state', 'ready');
}

byId('login-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const key = byId('admin-key').value.trim();
  if (!key) {
    byId('login-error').textContent = 'Enter the admin key.';
    return;
  }
  byId('login-error').textContent = '';
  st.key = key;
  load();
});
byId('signout').addEventListener('click', () => {
  signOut('');
});
byId('refresh').addEventListener('click', () => {
  load();
});
byId('pause').addEventListener('click', () => {
  st.paused = !st.paused;
  byId('pause').setAttribute('aria-pressed', String(st.paused));
  byId('pause').textContent = st.paused ? 'Resume' : 'Pause';
  byId('refresh-state').textContent = st.paused ? 'Auto-refresh paused' : 'Auto-refresh every 15 s';
  if (!st.paused) load();
});
document.querySelectorAll('#window input').forEach((input) => {
  input.checked = Number(input.value) === st.minutes;
  input.addEventListener('change', () => {
    st.minutes = Number(input.value);
    sessionStorage.setItem(WINDOW_STORE, String(st.minutes));
    load();
  });
});
setInterval(() => {
  if (st.key && !st.paused && !document.hidden) load();
}, REFRESH_MS);
let resizeTimer = null;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => {
    if (st.last) renderCharts(st.last.m, st.last.b);
  }, 150);
});
if (st.key) load();
else byId('admin-key').focus();
`;
