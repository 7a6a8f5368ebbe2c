import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import OpenAI from 'openai';
import type { Batch } from 'openai/resources/batches';
import worker from '../../functions/index';
import { createDeps } from '../../lib/deps';
import { parseEnv } from '../../lib/env';
import type { ErrorBody } from '../../lib/errors';
import type { TaskEfficiency } from '../../lib/metrics/tasks';
import { redisKey } from '../../lib/store';
import { bindings } from '../support/env';
import { callGateway, freshCaller } from '../support/gateway';
import { adminAuth, bearer } from '../support/keys';

/** What the bulk tests share: a job's body, calls to the job API, one cron run, and waiting for a job. */

export interface JobBody {
  id: string;
  status: string;
  counts: Record<
    'total' | 'submitted' | 'completed' | 'failed' | 'approved' | 'rejected' | 'errored',
    number
  >;
  cost: { reserved_usd: number; spent_usd: number; settled: boolean };
  results?: ({ index: number; ok: boolean; error?: ErrorBody['error'] } & Record<string, unknown>)[];
  has_more?: boolean;
  [field: string]: unknown;
}
type KeyBudget = { key: { spent_usd: number; reserved_usd: number } };

export const setup = (overrides?: Record<string, unknown>) => freshCaller('/v1/batches', overrides);
export const nanos = (usd: number) => Math.round(usd * 1e9);
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
export const get = (env: Cloudflare.Env, key: string, path: string) =>
  callGateway(path, { headers: bearer(key) }, env);
export const job = async (env: Cloudflare.Env, key: string, id: string, query = '') =>
  (await get(env, key, `/v1/batches/${id}${query}`)).json<JobBody>();
export const cancel = (env: Cloudflare.Env, key: string, id: string) =>
  callGateway(`/v1/batches/${id}/cancel`, { method: 'POST', headers: bearer(key) }, env);
export const keyBudget = async (env: Cloudflare.Env, key: string) =>
  (await (await get(env, key, '/v1/budget')).json<KeyBudget>()).key;

/** The per-task token metrics of the last five minutes in `env`'s metrics namespace, by task. */
export async function taskMetrics(env: Cloudflare.Env): Promise<Record<string, TaskEfficiency>> {
  const res = await callGateway('/v1/metrics?minutes=5', { headers: adminAuth }, env);
  const { by_task } = await res.json<{ by_task: TaskEfficiency[] }>();
  return Object.fromEntries(by_task.map((row) => [row.task, row]));
}

/** One run of the bulk poll, as its cron trigger starts it, with `env`'s settings and simulator account. */
export async function poll(env: Cloudflare.Env = bindings) {
  const ctx = createExecutionContext();
  await worker.scheduled(
    createScheduledController({ cron: '*/10 * * * *', scheduledTime: Date.now() }),
    env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
}

/** Polls until the job is final. */
export async function finished(env: Cloudflare.Env, key: string, id: string): Promise<JobBody> {
  for (let i = 0; i < 30; i++) {
    await poll(env);
    const body = await job(env, key, id);
    if (['completed', 'failed', 'expired', 'cancelled'].includes(body.status)) return body;
    await sleep(100);
  }
  throw new Error(`job ${id} did not finish`);
}

/** The simulator's batch for a job, found by the `gateway_job` metadata the gateway sends. */
export async function simBatch(sim: string, id: string): Promise<{ batch: Batch; client: OpenAI }> {
  const client = new OpenAI({ apiKey: sim, baseURL: `${bindings.SIMULATOR_URL}/v1`, maxRetries: 0 });
  for await (const batch of client.batches.list({ limit: 100 })) {
    if (batch.metadata?.gateway_job === id) return { batch, client };
  }
  throw new Error(`no simulator batch for ${id}`);
}

/**
 * The running set is shared: a test file calls this after each test, so every job is finished before
 * the next test polls with its own simulator account.
 */
export async function finishRunningJobs(): Promise<void> {
  const redis = createDeps(parseEnv(bindings)).redis;
  for (let i = 0; i < 40 && (await redis.zcard(redisKey('bulk', 'running'))) > 0; i++) {
    await poll();
    await sleep(100);
  }
}
