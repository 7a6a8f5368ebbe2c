import { withInvocationPool } from './connections';
import type { Deps } from './deps';
import { type Env, parseEnv, secretsOf } from './env';
import { createLogger, type Logger } from './log';

/** What a cron job gets: validated settings, fresh clients, a logger and the time it was due. */
export interface CronContext {
  env: Env;
  deps: Deps;
  log: Logger;
  /** When the trigger was due (epoch ms), which may be well before now if it ran late. */
  scheduledTime: number;
  waitUntil: (promise: Promise<unknown>) => void;
}
export type CronJob = (ctx: CronContext) => Promise<void>;

/**
 * Runs the job registered for `controller.cron` (the exact expression from wrangler.toml). An
 * unknown expression is logged and not retried; a failing job rethrows so the run shows as failed.
 */
export async function runScheduled(
  controller: ScheduledController,
  rawEnv: object,
  ctx: ExecutionContext,
  jobs: Record<string, CronJob>,
  makeDeps: (env: Env) => Deps,
): Promise<void> {
  const env = parseEnv(rawEnv);
  const log = createLogger({
    level: env.LOG_LEVEL,
    fields: { cron: controller.cron },
    secrets: secretsOf(env),
  });
  const job = jobs[controller.cron];
  if (!job) {
    log.warn('no job for cron expression');
    controller.noRetry();
    return;
  }
  const started = Date.now();
  try {
    const deps = makeDeps(env);
    await withInvocationPool(deps.connections, () =>
      job({
        env,
        deps,
        log,
        scheduledTime: controller.scheduledTime,
        waitUntil: (p) => ctx.waitUntil(p),
      }),
    );
    log.info('cron job done', { duration_ms: Date.now() - started });
  } catch (err) {
    log.error('cron job failed', { duration_ms: Date.now() - started, cause: err });
    throw err;
  }
}
