import { Hono } from 'hono';
import type { AppEnv } from '../lib/app-env';
import { dashboardCsp, newNonce, renderDashboardPage } from '../lib/dashboard/page';

/**
 * `GET /dashboard`: the operator's dashboard, one self-contained page (lib/dashboard). Public, since
 * the page itself holds no data: its script asks for the admin key and reads `/v1/metrics` and
 * `/v1/budget` with it. Served with a nonce-based CSP and never cached.
 */
export const dashboard = new Hono<AppEnv>().get('/dashboard', (c) => {
  const nonce = newNonce();
  return c.html(renderDashboardPage(nonce), 200, {
    'content-security-policy': dashboardCsp(nonce),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
  });
});
