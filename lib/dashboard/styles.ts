/**
 * The dashboard's stylesheet, inlined under the page's CSP nonce. System fonts only (nothing is
 * fetched); colours chosen for WCAG AA contrast on their backgrounds, in light and dark schemes.
 * Chart marks are coloured by class (`.c-…`), never by inline `style`, which the CSP forbids.
 */
export const DASHBOARD_CSS = `
:root {
  --bg: #f3f5f9; --card: #fff; --line: #e2e8f0; --grid: #edf1f6; --text: #0f172a; --muted: #475569;
  --accent: #4338ca; --ok: #15803d; --bad: #b91c1c; --warn: #b45309;
  --c-req: #6366f1; --c-hit: #14b8a6; --c-ok: #22c55e; --c-fail: #ef4444; --c-cost: #f59e0b;
  --c-lat: #8b5cf6; --c-miss: #94a3b8; --c-bypass: #cbd5e1; --c-coal: #0ea5e9; --c-today: #d97706;
  --shadow: 0 1px 2px rgb(15 23 42 / 6%), 0 1px 8px rgb(15 23 42 / 4%);
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0b1120; --card: #111a2e; --line: #22304a; --grid: #1a253b; --text: #e2e8f0; --muted: #a5b4cc;
    --accent: #a5b4fc; --ok: #4ade80; --bad: #f87171; --warn: #fbbf24; --c-bypass: #475569;
    --shadow: none;
  }
}
* { box-sizing: border-box; }
html, body { margin: 0; }
figure { margin: 0; }
body {
  background: var(--bg); color: var(--text); line-height: 1.4; font-size: 14px;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", "DejaVu Sans", sans-serif;
  font-variant-numeric: tabular-nums;
}
h1, h2, h3 { margin: 0; font-weight: 600; }
h1 { font-size: 17px; }
h2, h3 { font-size: 13px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
button, input { font: inherit; color: inherit; }
:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%);
  white-space: nowrap; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 8px; top: 8px; background: var(--card); padding: 6px 10px; z-index: 2; }
[hidden] { display: none !important; }

.topbar {
  display: flex; flex-wrap: wrap; gap: 12px 20px; align-items: center; justify-content: space-between;
  padding: 12px 24px; background: var(--card); border-bottom: 1px solid var(--line);
  position: sticky; top: 0; z-index: 1;
}
.brand { display: flex; align-items: center; gap: 10px; }
.logo { color: var(--accent); font-size: 20px; }
.sub { color: var(--muted); font-size: 13px; }
.controls { display: flex; flex-wrap: wrap; align-items: center; gap: 10px; }
.seg { display: inline-flex; border: 1px solid var(--line); border-radius: 8px; padding: 2px; margin: 0; }
.seg input { position: absolute; opacity: 0; width: 1px; height: 1px; }
.seg label { padding: 4px 10px; border-radius: 6px; cursor: pointer; color: var(--muted); }
.seg input:checked + label { background: var(--accent); color: var(--card); }
.seg input:focus-visible + label { outline: 2px solid var(--accent); outline-offset: 1px; }
.btn {
  border: 1px solid var(--line); background: var(--card); border-radius: 8px; padding: 5px 12px;
  cursor: pointer;
}
.btn:hover { border-color: var(--muted); }
.btn[aria-pressed="true"] { background: #fef3c7; border-color: var(--warn); color: #78350f; }
.btn.primary { background: var(--accent); border-color: var(--accent); color: var(--card); }
.updated { color: var(--muted); font-size: 13px; min-width: 11em; }

.pill { display: inline-flex; align-items: center; gap: 6px; padding: 2px 10px; border-radius: 999px;
  font-size: 12px; font-weight: 600; border: 1px solid currentColor; }
.pill::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: currentColor; }
.st-healthy, .st-closed { color: var(--ok); }
.st-degraded, .st-open { color: var(--bad); }
.st-idle, .st-half_open { color: var(--warn); }
.st-unknown { color: var(--muted); }

main { padding: 20px 24px 32px; max-width: 1440px; margin: 0 auto; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 16px 18px;
  box-shadow: var(--shadow); min-width: 0; }
.login { max-width: 440px; margin: 10vh auto 0; display: grid; gap: 12px; }
.login h2 { font-size: 18px; color: var(--text); text-transform: none; letter-spacing: 0; }
.login p { margin: 0; color: var(--muted); }
.login form { display: grid; gap: 8px; }
.login input { padding: 8px 10px; border: 1px solid var(--muted); border-radius: 8px;
  background: var(--card); }
.error, .login .error { color: var(--bad); font-weight: 500; min-height: 1.4em; margin: 0; }
.banner { margin-bottom: 16px; padding: 10px 14px; border-radius: 8px; background: #fef2f2; color: #991b1b;
  border: 1px solid #fecaca; }

.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(270px, 1fr)); gap: 16px; }
.kpi { display: grid; gap: 6px; align-content: start; }
.big { font-size: 28px; font-weight: 650; letter-spacing: -.01em; }
.of { color: var(--muted); font-size: 14px; font-weight: 400; }
.meta { color: var(--muted); font-size: 13px; display: flex; flex-wrap: wrap; gap: 4px 12px; }
.meta b { color: var(--text); font-weight: 600; }
.bar { position: relative; height: 8px; border-radius: 4px; background: var(--grid); overflow: visible; }
.bar > .fill { position: absolute; inset: 0 auto 0 0; border-radius: 4px; background: var(--accent); }
.bar > .fill.warn { background: var(--warn); }
.bar > .fill.over { background: var(--bad); }
.bar > .mark { position: absolute; top: -3px; bottom: -3px; width: 2px; background: var(--warn); }
table.lat { border-collapse: collapse; width: 100%; }
table.lat th, table.lat td { padding: 2px 0; text-align: right; }
table.lat th:first-child { text-align: left; }
table.lat th { color: var(--muted); font-weight: 500; font-size: 12px; }
table.lat td { font-size: 17px; font-weight: 600; }

.section-title { margin: 24px 0 10px; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(380px, 1fr)); gap: 16px; }
.grid + .grid { margin-top: 16px; }
.grid.wide { grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); }
.span-all { grid-column: 1 / -1; }
.scroll { overflow-x: auto; }
.chart-card { display: grid; gap: 8px; align-content: start; }
.chart-head { display: flex; justify-content: space-between; align-items: baseline; gap: 8px; }
.chart { width: 100%; min-height: 170px; }
.chart svg { display: block; width: 100%; overflow: visible; }
.chart .axis text, .chart text { fill: var(--muted); font-size: 11px; }
.chart .gridline { stroke: var(--grid); stroke-width: 1; }
.chart .baseline { stroke: var(--line); stroke-width: 1; }
.chart .empty { fill: var(--muted); font-size: 13px; }
.chart .hover { fill: transparent; }
.chart .track { fill: var(--grid); }
.chart .hlabel { fill: var(--text); font-size: 13px; }
.chart .hnum, .chart .donut-big { fill: var(--text); font-weight: 650; }
.chart .hnum { font-size: 13px; }
.chart .donut-big { font-size: 22px; }
.chart .hover:hover { fill: rgb(100 116 139 / 12%); }
.chart path.line[class] { fill: none; stroke-width: 2; stroke-linejoin: round; stroke-linecap: round; }
.chart .ref { stroke-width: 1.5; stroke-dasharray: 5 4; }
/* A series class sets --c; chart marks and legend swatches take their colour from it. */
.c-req { --c: var(--c-req); } .c-hit { --c: var(--c-hit); } .c-ok { --c: var(--c-ok); }
.c-fail { --c: var(--c-fail); } .c-cost { --c: var(--c-cost); } .c-lat { --c: var(--c-lat); }
.c-miss { --c: var(--c-miss); } .c-bypass { --c: var(--c-bypass); } .c-coal { --c: var(--c-coal); }
.c-today { --c: var(--c-today); } .c-limit { --c: var(--bad); } .c-alert { --c: var(--warn); }
.chart [class^="c-"], .chart [class*=" c-"] { fill: var(--c); stroke: var(--c); }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; color: var(--muted); font-size: 12px; margin: 0;
  padding: 0; list-style: none; }
.legend li { display: inline-flex; align-items: center; gap: 6px; }
.legend b { color: var(--text); font-weight: 600; }
.sw { width: 10px; height: 10px; border-radius: 3px; display: inline-block; background: var(--c); }

table.data { border-collapse: collapse; width: 100%; }
table.data th, table.data td { padding: 7px 8px; border-bottom: 1px solid var(--line); text-align: right;
  white-space: nowrap; }
table.data th:first-child, table.data td:first-child { text-align: left; }
table.data .sub { display: block; font-size: 12px; }
table.data th { color: var(--muted); font-weight: 500; font-size: 12px; }
table.data tr:last-child > * { border-bottom: 0; }
table.data tbody th { color: var(--text); font-weight: 500; font-size: 14px; }
.none { color: var(--muted); margin: 4px 0; }
.share { display: inline-block; width: 60px; height: 6px; border-radius: 3px; background: var(--grid);
  vertical-align: middle; margin-left: 8px; position: relative; overflow: hidden; }
.share > i { position: absolute; inset: 0 auto 0 0; background: var(--c-cost); }
.breakers { display: flex; flex-wrap: wrap; gap: 8px; margin: 0; padding: 0; list-style: none; }
.breakers li { display: flex; align-items: center; gap: 8px; padding: 6px 10px; border: 1px solid var(--line);
  border-radius: 8px; }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
@media (max-width: 720px) {
  .topbar, main { padding-left: 12px; padding-right: 12px; }
  .grid { grid-template-columns: 1fr; }
}
`;
