/**
 * The bulk poll as a cron job: builds what lib/bulk/poll.ts needs from the cron's settings and clients,
 * as lib/services.ts does for a request (the provider layer with shared breakers, the budget
 * ledger with its alerts, the cache), with deferred work handed to the cron's `waitUntil`.
 */
import { ALERT_TIMEOUT_MS, sendBudgetAlert } from '../alerts';
import { createBreaker } from '../breaker';
import { createBudget } from '../budget';
import { createCache } from '../cache';
import { configOf } from '../config';
import { writeMetrics } from '../metrics/store';
import { addTaskCalls } from '../metrics/tasks';
import { usdToNanos } from '../pricing';
import type { RouterDeps } from '../providers/router-deps';
import type { CronContext } from '../scheduled';
import { createJobStore, RUNNING_TTL_SECONDS } from './jobs';
import { settleJob } from './ledger';
import { moderateTexts } from './moderate';
import { pollJobs } from './poll';
import { createStagedLines } from './staged-lines';

/** A job's lock outlives one run's work on it (a chunk's moderation calls may each retry with backoff). */
const LOCK_MS = 10 * 60_000;

/** Polls the running bulk jobs once; see pollJobs. */
export async function pollBulkJobs({ env, deps, log, waitUntil }: CronContext): Promise<void> {
  const { prices, moderation, breaker, retry: policy } = configOf(env);
  const { redis, now, newId, sleep, random } = deps;
  const router: RouterDeps = {
    providers: deps.providers(),
    breaker: createBreaker({ redis, now, log }, breaker),
    sleep,
    random,
    defer: waitUntil,
    log,
  };
  const ledger = {
    budget: createBudget({ redis, now, newId }, { timeZone: env.BUDGET_TIMEZONE }),
    now,
    log,
    alert: (alert: Parameters<typeof sendBudgetAlert>[1]) =>
      sendBudgetAlert(
        {
          log,
          fetch: deps.connections.fetch(ALERT_TIMEOUT_MS),
          ...(env.ALERT_WEBHOOK_URL ? { webhookUrl: env.ALERT_WEBHOOK_URL } : {}),
        },
        alert,
      ),
  };
  const thresholds = {
    alertThresholdNanos: usdToNanos(env.OPENAI_ALERT_THRESHOLD_USD),
    limitNanos: usdToNanos(env.OPENAI_DAILY_BUDGET_USD),
  };
  const primary = deps.providers()[0];
  if (!primary) throw new Error('no provider is configured');
  // The run's collected lines and retries per task, written once after it: one Redis call per run
  // (the poll is sized to Workers' subrequest limits).
  const metered = new Map<string, number>();
  const result = await pollJobs(
    {
      store: createJobStore(redis, { resultsTtlSeconds: env.BULK_RESULTS_TTL_SECONDS, now }),
      lines: createStagedLines(redis, { ttlSeconds: RUNNING_TTL_SECONDS }),
      client: primary.client,
      moderate: (texts) =>
        moderateTexts(
          { router, policy, rules: moderation, failClosed: env.MODERATION_FAIL_CLOSED, log },
          texts,
        ),
      cache: createCache({ redis, now, sleep, newId, log }, { ttlSeconds: env.CACHE_TTL_SECONDS }),
      settle: (reservation, nanos) => settleJob(ledger, thresholds, reservation, nanos),
      price: (model) => prices.price(model),
      now,
      newId,
      log,
      meter: (task, counted) => addTaskCalls(metered, task, counted),
    },
    { jobsPerRun: env.BULK_POLL_JOBS_PER_RUN, itemsPerRun: env.BULK_COLLECT_PER_RUN, lockMs: LOCK_MS },
  );
  const store = { namespace: env.METRICS_NAMESPACE, retentionDays: env.METRICS_RETENTION_DAYS };
  await writeMetrics(redis, store, now(), metered, (err) =>
    log.warn('bulk metrics not written', { cause: err }),
  );
  log.info('bulk jobs polled', result);
}
