import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import type { JobInfo } from '../../lib/bulk/job';
import { createJobStore, type NewJob } from '../../lib/bulk/jobs';
import { type PollDeps, pollJobs } from '../../lib/bulk/poll';
import { createLogger } from '../../lib/log';
import { ZERO_USAGE } from '../../lib/providers/usage';
import { countingClient } from '../support/redis';

/** A store on its own running set, so no other test's poll sees its jobs. */
function isolatedStore() {
  const client = countingClient();
  const store = createJobStore(client.redis, {
    resultsTtlSeconds: 3600,
    now: () => Date.now(),
    queue: `test-${crypto.randomUUID()}`,
  });
  return { store, ...client };
}

function newJob(items: number, text = (i: number) => `intent ${i}`): NewJob {
  const id = `bjob_${crypto.randomUUID().replaceAll('-', '')}`;
  const info: JobInfo = {
    id,
    owner: 'key_test',
    task: 'opportunities',
    model: 'gpt-6-luna',
    batch_id: 'batch_test',
    input_file_id: 'file-test',
    total: items + 1,
    submitted: items,
    reservation: { id: 'bres_1', day: '2026-11-27', amount: 1234, scopes: ['global'] },
    metadata: { campaign: '42' },
    created_at: new Date().toISOString(),
  };
  return {
    info,
    status: 'validating',
    items: new Map(Array.from({ length: items }, (_, i) => [i, { key: `k${i}`, text: text(i) }])),
    // The last index was refused at submission.
    results: [
      {
        index: items,
        ok: false,
        error: { type: 'invalid_request_error', code: 'content_policy_violation', message: 'no' },
      },
    ],
    collect: {
      cursor: 0,
      approved: 0,
      rejected: 1,
      errored: 0,
      usage: ZERO_USAGE,
      retried: 0,
      retry_nanos: 0,
      staged: false,
    },
  };
}

describe('the job store', () => {
  it('writes a small job, and reads it with a page of its results, in one round trip each', async () => {
    const { store, requests } = isolatedStore();
    const job = newJob(2);
    await store.create(job);
    expect(requests).toHaveLength(1);
    const before = requests.length;
    const found = await store.read(job.info.id, { offset: 1, limit: 5 });
    expect(requests.length - before).toBe(1);
    expect(found?.record).toEqual({ job: job.info, status: 'validating', collect: job.collect });
    expect(found?.results).toEqual([null, job.results[0], null, null, null]);
    expect(await store.read('bjob_missing')).toBeNull();
    expect(await store.running(100)).toEqual([job.info.id]);
  });

  it('writes a large job in requests under 1 MB, and reads every item back', async () => {
    const { store, redis } = isolatedStore();
    const sizes: number[] = [];
    redis.use((req, next) => {
      sizes.push(new TextEncoder().encode(JSON.stringify(req.body)).length);
      return next(req);
    });
    const job = newJob(2500, (i) => `${'é'.repeat(300)} ${i}`);
    await store.create(job);
    expect(sizes.length).toBeGreaterThan(1);
    expect(Math.max(...sizes)).toBeLessThan(1_000_000);
    const items = await store.items(job.info.id, 2490, 2501);
    expect(items.slice(0, 10).map((i) => i?.key)).toEqual(
      Array.from({ length: 10 }, (_, i) => `k${2490 + i}`),
    );
    expect(items[10]).toBeNull();
  });

  it('finishes a job: out of the running set, items dropped, record and results kept', async () => {
    const { store } = isolatedStore();
    const job = newJob(1);
    await store.create(job);
    await store.saveCollected(job.info.id, [{ index: 0, ok: true, opportunities: [] }], {
      ...job.collect,
      cursor: 2,
      approved: 1,
    });
    await store.finish(job.info.id, 'completed', { nanos: 99, finished_at: '2026-11-27T00:00:00.000Z' });
    expect(await store.running(10)).toEqual([]);
    expect(await store.items(job.info.id, 0, 1)).toEqual([null]);
    const found = await store.read(job.info.id, { offset: 0, limit: 2 });
    expect(found?.record).toMatchObject({
      status: 'completed',
      settled: { nanos: 99 },
      collect: { cursor: 2, approved: 1 },
    });
    expect(found?.results.map((r) => r?.ok)).toEqual([true, false]);
  });

  it('lets one poll at a time hold a job, until it releases it', async () => {
    const { store } = isolatedStore();
    const id = newJob(1).info.id;
    const release = await store.lock(id, 60_000, 'run-a');
    expect(release).not.toBeNull();
    expect(await store.lock(id, 60_000, 'run-b')).toBeNull();
    await release?.();
    expect(await store.lock(id, 60_000, 'run-c')).not.toBeNull();
  });
});

describe('pollJobs', () => {
  it('skips a job another poll holds, and records progress once it is free', async () => {
    const { store } = isolatedStore();
    const job = newJob(2);
    await store.create(job);
    let retrieved = 0;
    const client = {
      batches: {
        retrieve: async () => {
          retrieved += 1;
          return { status: 'in_progress', request_counts: { total: 2, completed: 1, failed: 0 } };
        },
      },
    } as unknown as OpenAI;
    const deps = {
      store,
      client,
      newId: (p: string) => `${p}_${crypto.randomUUID()}`,
      now: () => Date.now(),
      log: createLogger({ level: 'error', sink: () => {} }),
    } as unknown as PollDeps;
    const options = { jobsPerRun: 10, itemsPerRun: 10, lockMs: 60_000 };
    const release = await store.lock(job.info.id, 60_000, 'other-run');
    expect(await pollJobs(deps, options)).toEqual({ jobs: 0, items: 0 });
    expect(retrieved).toBe(0);
    await release?.();
    expect(await pollJobs(deps, options)).toEqual({ jobs: 1, items: 0 });
    expect(retrieved).toBe(1);
    const found = await store.read(job.info.id);
    expect(found?.record).toMatchObject({ status: 'in_progress', progress: { completed: 1, failed: 0 } });
  });
});
