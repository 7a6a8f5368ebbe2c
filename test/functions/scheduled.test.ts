import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import worker from '../../functions/index';
import { createDeps } from '../../lib/deps';
import { type CronJob, runScheduled } from '../../lib/scheduled';
import { bindings } from '../support/env';

afterEach(() => vi.restoreAllMocks());

describe('scheduled', () => {
  it('logs and does not retry a cron expression with no job', async () => {
    const warnings: string[] = [];
    vi.spyOn(console, 'warn').mockImplementation((line: string) => void warnings.push(line));
    const controller = createScheduledController({ cron: '13 13 * * *', scheduledTime: Date.now() });
    const noRetry = vi.spyOn(controller, 'noRetry');
    const ctx = createExecutionContext();
    await worker.scheduled(controller, bindings, ctx);
    await waitOnExecutionContext(ctx);
    expect(noRetry).toHaveBeenCalledOnce();
    expect(warnings.map((l) => JSON.parse(l))).toContainEqual(
      expect.objectContaining({ msg: 'no job for cron expression', cron: '13 13 * * *' }),
    );
  });

  it('runs the job registered for the cron with the time it was due and working clients', async () => {
    const scheduledTime = Date.UTC(2026, 10, 27, 0, 0);
    const seen: { time: number; pong: string }[] = [];
    const job: CronJob = async ({ scheduledTime: time, deps }) => {
      seen.push({ time, pong: await deps.redis.ping() });
    };
    const ctx = createExecutionContext();
    await runScheduled(
      createScheduledController({ cron: '0 0 * * *', scheduledTime }),
      bindings,
      ctx,
      { '0 0 * * *': job },
      createDeps,
    );
    expect(seen).toEqual([{ time: scheduledTime, pong: 'PONG' }]);
  });

  it('rethrows a failing job so the run is marked failed', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const failing: CronJob = async () => {
      throw new Error('archive failed');
    };
    const run = runScheduled(
      createScheduledController({ cron: '0 0 * * *' }),
      bindings,
      createExecutionContext(),
      { '0 0 * * *': failing },
      createDeps,
    );
    await expect(run).rejects.toThrow('archive failed');
  });
});
