/**
 * The operator dashboard as one self-contained HTML document: inline CSS and script under a
 * per-response CSP nonce, charts drawn as inline SVG, system fonts, nothing loaded from anywhere
 * else. The page holds no data; its script asks for the admin key and reads `GET /v1/metrics` and
 * `GET /v1/budget` from the same origin.
 */
import { APP_JS } from './client-app';
import { BREAKDOWNS_JS } from './client-breakdowns';
import { CHARTS_JS } from './client-charts';
import { FORMAT_JS } from './client-format';
import { PARTS_JS } from './client-parts';
import { RENDER_JS } from './client-render';
import { TABLES_JS } from './client-tables';
import { DASHBOARD_BODY } from './markup';
import { DASHBOARD_CSS } from './styles';

/** The scripts in load order, wrapped in one strict-mode function scope. */
const PARTS = [FORMAT_JS, CHARTS_JS, PARTS_JS, RENDER_JS, BREAKDOWNS_JS, TABLES_JS, APP_JS];
const SCRIPT = `(function () {\n'use strict';\n${PARTS.join('\n')}\n})();`;

/** A fresh nonce for one response: 128 random bits, base64. */
export function newNonce(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
}

/**
 * The page's Content-Security-Policy: same-origin only, the inline style and script allowed by
 * `nonce`, no plugins, frames, base rewriting or form posts (the sign-in form is handled by script,
 * so a key can never end up in a URL).
 */
export function dashboardCsp(nonce: string): string {
  return [
    "default-src 'self'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The dashboard document, with `nonce` on its one `<style>` and one `<script>`. */
export function renderDashboardPage(nonce: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Dashboard · commerce-ai-gateway</title>
<link rel="icon" href="data:,">
<style nonce="${nonce}">${DASHBOARD_CSS}</style>
</head>
<body>
${DASHBOARD_BODY}
<script nonce="${nonce}">${SCRIPT}</script>
</body>
</html>
`;
}
