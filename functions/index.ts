import { createApp } from '../lib/app';
import { createDeps } from '../lib/deps';
import { type CronJob, runScheduled } from '../lib/scheduled';
import { health } from './health';
import { root } from './root';

const app = createApp(createDeps);
app.route('/', root);
app.route('/', health);

/** Cron expression (as written in wrangler.toml `[triggers]`) → job. */
const CRON_JOBS: Record<string, CronJob> = {};

export default {
  fetch: app.fetch,
  scheduled: (controller, env, ctx) => runScheduled(controller, env, ctx, CRON_JOBS, createDeps),
} satisfies ExportedHandler<Cloudflare.Env>;
