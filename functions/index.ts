import { createApp } from '../lib/app';
import { createBudget } from '../lib/budget';
import { rolloverBudget } from '../lib/budget/rollover';
import { createDeps, type IsolateState } from '../lib/deps';
import { protect } from '../lib/guards';
import { type CronJob, runScheduled } from '../lib/scheduled';
import { adminKeys } from './admin-keys';
import { budget } from './budget';
import { health } from './health';
import { root } from './root';

/** Lives as long as the isolate; everything else is built per request. */
const isolate: IsolateState = { ratelimitCache: new Map() };

/** Routes anyone may call; every other route needs a key (`/admin/*` the admin key). */
export const PUBLIC_PATHS: ReadonlySet<string> = new Set(['/', '/health']);

export const app = createApp((env) => createDeps(env, isolate));
app.use(protect(PUBLIC_PATHS));
app.route('/', root);
app.route('/', health);
app.route('/', adminKeys);
app.route('/', budget);

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
