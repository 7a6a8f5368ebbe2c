import { createApp, type MakeDeps } from '../lib/app';
import { createBudget } from '../lib/budget';
import { rolloverBudget } from '../lib/budget/rollover';
import { createDeps, type IsolateState, newIsolateState } from '../lib/deps';
import { protect } from '../lib/guards';
import { type CronJob, runScheduled } from '../lib/scheduled';
import { adminKeys } from './admin-keys';
import { adminVariants } from './admin-variants';
import { budget } from './budget';
import { creatives } from './creatives';
import { creativesBatch } from './creatives-batch';
import { health } from './health';
import { images } from './images';
import { imagesAnalyze } from './images-analyze';
import { match } from './match';
import { moderate } from './moderate';
import { opportunities } from './opportunities';
import { root } from './root';

/** Lives as long as the isolate; everything else is built per request. */
const isolate: IsolateState = newIsolateState();

/** Routes anyone may call; every other route needs a key (`/admin/*` the admin key). */
export const PUBLIC_PATHS: ReadonlySet<string> = new Set(['/', '/health']);
/**
 * Image URLs are loaded by `<img src>`, which cannot send a key; their ids are 256-bit content
 * hashes, unguessable without the image itself.
 */
export const isPublic = (path: string) => PUBLIC_PATHS.has(path) || /^\/v1\/images\/[0-9a-f]{64}$/.test(path);
/** Cache-first routes: they admit the caller themselves, with the cache lookup in the same round trip. */
const ADMITS_ITSELF: ReadonlySet<string> = new Set([
  '/v1/opportunities',
  '/v1/creatives',
  '/v1/creatives/batch',
  '/v1/images/analyze',
]);

/** The whole gateway over `makeDeps`: every route behind protection-by-default. Tests pass their own deps. */
export function createGateway(makeDeps: MakeDeps) {
  const app = createApp(makeDeps);
  app.use(protect(isPublic, (path) => ADMITS_ITSELF.has(path)));
  const routes = [
    root,
    health,
    adminKeys,
    adminVariants,
    budget,
    imagesAnalyze,
    images,
    opportunities,
    creatives,
    creativesBatch,
    moderate,
    match,
  ];
  for (const endpoint of routes) {
    app.route('/', endpoint);
  }
  return app;
}

export const app = createGateway((env) => createDeps(env, isolate));

/** Cron expression (as written in wrangler.toml `[triggers]`) → job. */
export const CRON_JOBS: Record<string, CronJob> = {
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
