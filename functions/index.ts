import { ALERT_TIMEOUT_MS } from '../lib/alerts';
import { createApp, type MakeDeps } from '../lib/app';
import { createBudget } from '../lib/budget';
import { rolloverBudget } from '../lib/budget/rollover';
import { pollBulkJobs } from '../lib/bulk/cron';
import { opaqueOriginCors } from '../lib/cors';
import { createDeps, type IsolateState, newIsolateState } from '../lib/deps';
import { protect, verifyCaller } from '../lib/guards';
import { monitor } from '../lib/monitoring';
import { type CronJob, runScheduled } from '../lib/scheduled';
import { adminKeys } from './admin-keys';
import { adminVariants } from './admin-variants';
import { batches } from './batches';
import { budget } from './budget';
import { creatives } from './creatives';
import { creativesBatch } from './creatives-batch';
import { dashboard } from './dashboard';
import { DOCS_PATHS, docs } from './docs';
import { health } from './health';
import { images } from './images';
import { imagesAnalyze } from './images-analyze';
import { match } from './match';
import { metrics } from './metrics';
import { moderate } from './moderate';
import { openaiProxy } from './openai-proxy';
import { openapi } from './openapi';
import { opportunities } from './opportunities';
import { root } from './root';

/** Lives as long as the isolate; everything else is built per request. */
const isolate: IsolateState = newIsolateState();

/** Routes anyone may call; every other route needs a key (`/admin/*` the admin key). */
export const PUBLIC_PATHS: ReadonlySet<string> = new Set([
  '/',
  '/health',
  '/dashboard',
  '/openapi.json',
  // The reference page and its files.
  ...DOCS_PATHS,
]);
/** A stored image's URL (`GET /v1/images/:id`). */
const IMAGE_VIEW = /^\/v1\/images\/[0-9a-f]{64}$/;
/**
 * Image URLs are loaded by `<img src>`, which cannot send a key; their ids are 256-bit content
 * hashes, unguessable without the image itself.
 */
export const isPublic = (path: string) => PUBLIC_PATHS.has(path) || IMAGE_VIEW.test(path);

/** Requests not counted in metrics: probes, and the pages that read the metrics themselves. */
const UNMETERED: ReadonlySet<string> = new Set([
  '/health',
  '/metrics',
  '/v1/metrics',
  '/dashboard',
  '/openapi.json',
  ...DOCS_PATHS,
]);

/** The whole gateway over `makeDeps`: every route behind protection-by-default. Tests pass their own deps. */
export function createGateway(makeDeps: MakeDeps) {
  const app = createApp(makeDeps, {
    // Image views are public and many (every ad impression): counting each would be a Redis write (#16).
    unmetered: (path) => UNMETERED.has(path) || IMAGE_VIEW.test(path),
    // Public routes have no caller to confirm; /metrics takes its scrape token and checks it itself.
    verifyCaller: (c) =>
      isPublic(c.req.path) || c.req.path === '/metrics' ? Promise.resolve() : verifyCaller(c),
    // Liveness answers without Redis, so it stays true while the isolate sheds everything else.
    unshed: (path) => path === '/health',
  });
  // The sandboxed /docs page's calls (Origin: null); a preflight is answered before any key is asked for.
  app.use(opaqueOriginCors());
  app.use(protect(isPublic));
  const routes = [
    root,
    health,
    adminKeys,
    adminVariants,
    budget,
    batches,
    imagesAnalyze,
    images,
    opportunities,
    creatives,
    creativesBatch,
    moderate,
    match,
    metrics,
    dashboard,
    openapi,
    docs,
    openaiProxy,
  ];
  for (const endpoint of routes) {
    app.route('/', endpoint);
  }
  return app;
}

export const app = createGateway((env) => createDeps(env, isolate));

/** Cron expression (as written in wrangler.toml `[triggers]`) → job. */
export const CRON_JOBS: Record<string, CronJob> = {
  // Bulk jobs: follow each running batch, then collect its results in chunks (lib/bulk/poll.ts).
  '*/10 * * * *': pollBulkJobs,
  // Every five minutes: the monitoring targets over the last MONITOR_WINDOW_MINUTES.
  '*/5 * * * *': async ({ env, deps, log }) => {
    const fetch = deps.connections.fetch(ALERT_TIMEOUT_MS);
    const sent = await monitor({ ...deps, providers: deps.providers(), log, fetch }, env);
    log.info('monitoring checked', { alerts: sent.map((b) => b.name) });
  },
  // Hourly, so the budget day boundary is covered in any BUDGET_TIMEZONE; archiving is idempotent.
  '5 * * * *': async ({ env, deps, scheduledTime, log }) => {
    const ledger = createBudget(deps, { timeZone: env.BUDGET_TIMEZONE });
    const archived = await rolloverBudget(ledger, scheduledTime, env.BUDGET_TIMEZONE);
    log.info('budget day archived', {
      day: archived.day,
      spent_nanos: archived.spentNanos,
      calls: archived.calls,
    });
  },
};

export default {
  fetch: app.fetch,
  scheduled: (controller, env, ctx) => runScheduled(controller, env, ctx, CRON_JOBS, createDeps),
} satisfies ExportedHandler<Cloudflare.Env>;
