import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type DevGateway, startDevGateway } from '../support/node/dev-gateway.ts';

/** Debian's Chromium; `npm test` (dev/ensure-deps.sh --redis) and .ci/run install it when missing. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** The test's artifact; `UPDATE_SCREENSHOTS=1` also copies it to the one docs/operations.md shows. */
const SCREENSHOT = 'test-results/dashboard.png';
const DOCS_SCREENSHOT = 'docs/dashboard.png';

type Json = Record<string, unknown>;

/** One `data-metric` figure as the page shows it. */
interface Shown {
  metric: string;
  fmt: string;
  source: string;
  value: string;
  text: string;
}

let gateway: DevGateway;
let browser: Browser;

async function call(path: string, key: string, init: RequestInit = {}) {
  const res = await fetch(`${gateway.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...init.headers },
  });
  return { status: res.status, body: (await res.json()) as Json };
}

const post = (path: string, key: string, body: unknown) =>
  call(path, key, { method: 'POST', body: JSON.stringify(body) });

/** The value at a dotted path; an array step matches an element by id, name or task (as the page does). */
function pathGet(obj: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => {
    if (Array.isArray(o)) return o.find((e) => e?.id === k || e?.name === k || e?.task === k);
    return o && typeof o === 'object' ? (o as Json)[k] : undefined;
  }, obj);
}

/** Checks a shown figure against the API's number, allowing for the rounding its text shows. */
function expectShown(shown: Shown, expected: unknown) {
  const where = `${shown.metric} shown as "${shown.text}"`;
  expect(expected, `${shown.metric} is missing from the API's answer`).not.toBeUndefined();
  expect(shown.value, `${where}: data-value`).toBe(expected === null ? 'null' : String(expected));
  if (expected === null) return expect(shown.text, where).toBe('—');
  if (shown.fmt === 'text') return expect(shown.text, where).toBe(String(expected));
  const number = /^-?\$?([\d,]+(?:\.(\d+))?)(%| ms)?$/.exec(shown.text);
  expect(number, `${where} is not a formatted number`).not.toBeNull();
  const [, digits = '', decimals = ''] = number as RegExpExecArray;
  const scale = shown.fmt === 'pct' ? 100 : 1;
  const parsed = (Number(digits.replaceAll(',', '')) * (shown.text.startsWith('-') ? -1 : 1)) / scale;
  const tolerance = (0.5 * 10 ** -decimals.length) / scale + 1e-12;
  expect(Math.abs(parsed - (expected as number)), `${where} vs ${expected}`).toBeLessThanOrEqual(tolerance);
}

async function shownFigures(page: Page): Promise<Shown[]> {
  return page.$$eval('[data-metric]', (els) =>
    els.map((el) => ({
      metric: el.getAttribute('data-metric') ?? '',
      fmt: el.getAttribute('data-fmt') ?? '',
      source: el.getAttribute('data-source') ?? 'metrics',
      value: el.getAttribute('data-value') ?? '',
      text: el.textContent?.trim() ?? '',
    })),
  );
}

/**
 * Metrics are buffered per isolate and written once per flush interval, which a test of `wrangler dev`
 * cannot await: waits until they count at least the `metered` requests the test knows were answered
 * (a flush writes whole requests, so then all of theirs are in), and until two reads agree. Polls
 * twice a second: the admin key's rate limit counts these reads too.
 */
async function settledMetrics(adminKey: string, minutes: number, metered: number): Promise<Json> {
  const strip = (m: Json) => JSON.stringify({ ...m, window: null, series: null });
  let previous = '';
  let total = 0;
  for (let i = 0; i < 120; i++) {
    const { status, body } = await call(`/v1/metrics?minutes=${minutes}`, adminKey);
    if (status !== 200) throw new Error(`GET /v1/metrics answered ${status}: ${JSON.stringify(body)}`);
    const now = strip(body);
    total = (body.requests as Json).total as number;
    if (now === previous && total >= metered) return body;
    previous = now;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`metrics did not settle within 60 s: ${total} of ${metered} requests counted`);
}

/**
 * Lets the metrics settle, reads `/v1/metrics?minutes=` from the test, then has the page load (by
 * `action`) and returns what it shows next to that answer. The page reads its metrics before its
 * own (metered) /v1/budget request, so nothing is counted between the two reads. `metered`: the
 * requests the test itself sent; each page load adds its /v1/budget.
 */
async function loadAndRead(
  page: Page,
  adminKey: string,
  minutes: number,
  metered: number,
  action: () => Promise<void>,
) {
  const loads = Number(await page.getAttribute('body', 'data-loads'));
  const metrics = await settledMetrics(adminKey, minutes, metered + loads);
  await action();
  await page.waitForSelector(`body[data-loads="${loads + 1}"]`);
  return { metrics, shown: await shownFigures(page) };
}

/** A scripted burst of client traffic: misses, repeats (cache hits), creatives and one rule rejection. */
async function sendBurst(key: string): Promise<number> {
  const intents = [
    'waterproof hiking boots for a rainy autumn trip',
    'a quiet espresso machine for a small flat',
    'gifts for a ten-year-old who loves astronomy',
    'running shoes for a first marathon',
    'a warm sleeping bag for winter camping',
    'ergonomic office chair for long workdays',
    'reusable lunch boxes for school',
    'noise-cancelling headphones for travel',
  ];
  const statuses: number[] = [];
  for (const intent of [...intents, ...intents.slice(0, 4)]) {
    statuses.push((await post('/v1/opportunities', key, { intent, context: { locale: 'en-GB' } })).status);
  }
  const creative = (category: string, brandVoice: string) => ({
    opportunity: {
      id: `opp_${category.replaceAll(' ', '_')}`,
      product_category: category,
      description: `${category} for weekend trips`,
    },
    target_audience: 'weekend hikers',
    brand_voice: brandVoice,
    needs_visual: false,
  });
  statuses.push((await post('/v1/creatives', key, creative('hiking boots', 'warm, practical'))).status);
  statuses.push((await post('/v1/creatives', key, creative('rain jackets', 'calm, expert'))).status);
  const rejected = await post('/v1/creatives', key, creative('tents', 'act now, limited time only'));
  expect(rejected.status, JSON.stringify(rejected.body)).toBeGreaterThanOrEqual(400);
  expect(statuses.every((s) => s === 200)).toBe(true);
  return statuses.length + 1;
}

describe('GET /dashboard in a real browser', () => {
  // A failure to start fails every test (a throwing beforeAll would only skip them).
  let startError: unknown;
  beforeAll(async () => {
    try {
      if (!existsSync(CHROMIUM)) {
        throw new Error(
          `Chromium not found at ${CHROMIUM}. Install Debian's package (apt-get install chromium); ` +
            '`npm test` does so itself when run as root, and so does .ci/run.',
        );
      }
      [gateway, browser] = await Promise.all([
        // Metrics flushed every second (buffered per isolate, as in production), so they settle soon.
        startDevGateway({ SIM_LATENCY_MS: '15', METRICS_FLUSH_SECONDS: '1' }),
        chromium.launch({ executablePath: CHROMIUM }),
      ]);
    } catch (error) {
      startError = error;
    }
  }, 150_000);
  beforeEach(() => {
    if (startError) throw startError;
  });

  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
  }, 30_000);

  it('is public, self-contained, never cached and under a nonce CSP', async () => {
    const res = await fetch(`${gateway.url}/dashboard`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    const html = await res.text();
    expect(html).toContain(`<script nonce="${nonce}">`);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    // A fresh nonce per response.
    const again = (await fetch(`${gateway.url}/dashboard`)).headers.get('content-security-policy');
    expect(again).not.toBe(csp);
  });

  it('shows the same figures as GET /v1/metrics after a burst of traffic', async () => {
    const admin = gateway.adminKey;
    const { body: storefront } = await post('/admin/keys', admin, { name: 'storefront' });
    const { body: mobile } = await post('/admin/keys', admin, { name: 'mobile app' });
    const sent = await sendBurst(storefront.key as string);
    await post('/v1/opportunities', mobile.key as string, { intent: 'a light tent for two' });
    // Metered requests the test sent: two key creations, the burst, the mobile app's request.
    let metered = 2 + sent + 1;
    await settledMetrics(admin, 60, metered);

    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const requests: string[] = [];
    const problems: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
    });
    await page.goto(`${gateway.url}/dashboard`);

    // A wrong key, then a client key: the API's own messages, and nothing stored.
    for (const key of ['not-the-admin-key', storefront.key as string]) {
      const expected = (await call('/v1/metrics?minutes=60', key)).body.error as Json;
      await page.fill('#admin-key', key);
      await page.click('#login-form button[type=submit]');
      await expect.poll(() => page.textContent('#login-error')).toBe(expected.message);
      expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    }

    await page.fill('#admin-key', admin);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('body[data-loads="1"]');
    await page.click('#pause');
    expect(await page.getAttribute('#pause', 'aria-pressed')).toBe('true');
    const { metrics, shown } = await loadAndRead(page, admin, 60, metered, () => page.click('#refresh'));
    const { body: budget } = await call('/v1/budget', admin);
    metered += 1;

    expect(metrics.total_calls).toBeGreaterThan(0);
    expect(pathGet(metrics, 'requests.cache.HIT')).toBeGreaterThanOrEqual(4);
    expect(pathGet(metrics, 'moderation.rejected_by_layer.business_rules')).toBeGreaterThanOrEqual(1);
    const names = shown.map((s) => s.metric);
    for (const required of [
      'status',
      'total_calls',
      'success_rate',
      'total_cost_usd',
      'latency_ms.p50',
      'latency_ms.p95',
      'latency_ms.p99',
      'requests.latency_ms.p95',
      'requests.cache_hit_rate',
      'moderation.rejected',
      'moderation.rejected_by_layer.business_rules',
      'budget.spent_usd',
      'budget.limit_usd',
      `keys.${storefront.id}.spent_usd`,
      `keys.${mobile.id}.spent_usd`,
      // Token efficiency: the burst's opportunity sets and creatives.
      ...['opportunities', 'creative'].flatMap((task) =>
        [
          'calls',
          'input_tokens',
          'cached_share',
          'output_tokens',
          'reasoning_tokens',
          'cost_per_approved_result',
        ].map((field) => `by_task.${task}.${field}`),
      ),
    ]) {
      expect(names, `the page shows ${required}`).toContain(required);
    }
    for (const figure of shown) {
      expectShown(figure, pathGet(figure.source === 'budget' ? budget : metrics, figure.metric));
    }
    // Real data in the token efficiency table: every task the gateway called, with what it cost.
    const tasks = metrics.by_task as {
      task: string;
      input_tokens: number;
      cost_per_approved_result: number;
    }[];
    expect(tasks.find((t) => t.task === 'creative')?.cost_per_approved_result).toBeGreaterThan(0);
    expect(tasks.find((t) => t.task === 'opportunities')?.input_tokens).toBeGreaterThan(0);
    expect(await page.$$eval('#by-task tbody th', (ths) => ths.map((th) => th.textContent))).toEqual(
      tasks.map((t) => t.task),
    );
    for (const breaker of metrics.breakers as { name: string; state: string }[]) {
      const state = await page.textContent(`[data-breaker="${breaker.name}"] .pill`);
      expect(state).toBe(breaker.state.replace('_', '-'));
    }

    // Nothing but the gateway itself was asked for anything.
    expect(requests.length).toBeGreaterThan(0);
    for (const url of requests.filter((u) => !u.startsWith('data:'))) {
      expect(new URL(url).origin, url).toBe(gateway.url);
    }
    expect(problems).toEqual([]);
    expect(page.url()).toBe(`${gateway.url}/dashboard`);

    // The window selector: the 15-minute figures.
    const last15 = await loadAndRead(page, admin, 15, metered, () => page.click('label[for="w15"]'));
    expect(last15.metrics.window).toMatchObject({ minutes: 15 });
    for (const figure of last15.shown.filter((s) => s.source === 'metrics')) {
      expectShown(figure, pathGet(last15.metrics, figure.metric));
    }

    mkdirSync('test-results', { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(statSync(SCREENSHOT).size).toBeLessThan(300_000);
    // The docs' copy changes on every run (times, key ids): refreshed only when asked, or missing.
    if (process.env.UPDATE_SCREENSHOTS === '1' || !existsSync(DOCS_SCREENSHOT)) {
      mkdirSync('docs', { recursive: true });
      copyFileSync(SCREENSHOT, DOCS_SCREENSHOT);
    }

    // The 24 h window reads hourly buckets (lib/metrics/window.ts): the same figures as its answer.
    const day = await loadAndRead(page, admin, 1440, metered, () => page.click('label[for="w1440"]'));
    expect(day.metrics.window).toMatchObject({ minutes: 1440 });
    expect((day.metrics.series as unknown[]).length).toBeLessThanOrEqual(25);
    for (const figure of day.shown.filter((s) => s.source === 'metrics')) {
      expectShown(figure, pathGet(day.metrics, figure.metric));
    }
    expect(await page.textContent('#ch-requests-note')).toBe('per hour');
    await page.close();
  }, 120_000);

  it('runs the API reference sandboxed: Swagger UI works, yet cannot read the key the dashboard keeps', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (/Content Security Policy|CORS/i.test(m.text())) problems.push(`console: ${m.text()}`);
    });
    await page.goto(`${gateway.url}/dashboard`);
    await page.fill('#admin-key', gateway.adminKey);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('body[data-loads="1"]');
    expect(await page.evaluate(() => sessionStorage.length)).toBeGreaterThan(0);

    // The same tab, so the same origin's sessionStorage would be there for a same-origin page.
    await page.goto(`${gateway.url}/docs`);
    await page.waitForSelector('#operations-Budget-getBudget');
    const reach = await page.evaluate(() => {
      // In the page: Node's types know no DOM.
      const here = globalThis as unknown as { origin: string; document: { cookie: string } };
      const attempt = (read: () => unknown) => {
        try {
          return String(read());
        } catch (error) {
          return (error as Error).name;
        }
      };
      return {
        origin: here.origin,
        session: attempt(() => sessionStorage.length),
        cookie: attempt(() => here.document.cookie),
      };
    });
    expect(reach).toEqual({ origin: 'null', session: 'SecurityError', cookie: 'SecurityError' });

    // Authorize (a form, handled by Swagger UI), then Try it out → Execute, answered across origins.
    await page.click('.btn.authorize');
    const admin = page.locator('.auth-container', { hasText: 'adminKey' });
    await admin.locator('input').fill(gateway.adminKey);
    await admin.locator('button[type=submit]').click();
    await page.click('.btn-done');
    await page.click('#operations-Budget-getBudget .opblock-summary');
    await page.click('#operations-Budget-getBudget .try-out__btn');
    await page.click('#operations-Budget-getBudget .execute');
    const status = page.locator(
      '#operations-Budget-getBudget .live-responses-table tbody .response-col_status',
    );
    await expect.poll(() => status.first().textContent(), { timeout: 10_000 }).toContain('200');
    expect(problems).toEqual([]);
    await page.close();
  }, 60_000);
});
