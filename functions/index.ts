import { createApp } from '../lib/app';
import { createBudget } from '../lib/budget';
import { rolloverBudget } from '../lib/budget/rollover';
import { createDeps, type IsolateState, newIsolateState } from '../lib/deps';
import { protect } from '../lib/guards';
import { type CronJob, runScheduled } from '../lib/scheduled';
import { adminKeys } from './admin-keys';
import { budget } from './budget';
import { creatives } from './creatives';
import { health } from './health';
import { images } from './images';
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
export const isPublic = (path: string) => PUBLIC_PATHS.has(path) || path.startsWith('/v1/images/');

export const app = createApp((env) => createDeps(env, isolate));
app.use(protect(isPublic));
app.route('/', root);
app.route('/', health);
app.route('/', adminKeys);
app.route('/', budget);
app.route('/', images);
app.route('/', opportunities);
app.route('/', creatives);
app.route('/', moderate);

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
