import type { Batch } from 'openai/resources/batches';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { uniqueWord } from '../../dev/unique-word';
import type { Creative } from '../../lib/creatives/schema';
import { OpportunitiesOutput } from '../../lib/domain/opportunities';
import { opportunitiesTask } from '../../lib/domain/opportunities-prompt';
import type { ErrorBody } from '../../lib/errors';
import { costOf, createPriceTable, estimateTextCost, type ModelPrice } from '../../lib/pricing';
import { REASONING_ALLOWANCE } from '../../lib/providers/reasoning';
import { loadTokenCounter } from '../../lib/tokens';
import { bindings } from '../support/env';
import { callGateway } from '../support/gateway';
import { bearer, createTestKey } from '../support/keys';
import { simConfigure, simRequests } from '../support/providers';
import {
  cancel,
  finished,
  finishRunningJobs,
  get,
  type JobBody,
  job,
  keyBudget,
  nanos,
  poll,
  setup,
  simBatch,
  taskMetrics,
} from './batches.support';

const ITEMS = [
  { intent: 'Waterproof hiking boots for a rainy autumn trip' },
  { intent: 'A zeppelin model kit for a curious teenager', context: { locale: 'en-GB' } },
  { intent: 'Insulated camping mug that keeps coffee hot' },
];
const CREATIVE = {
  opportunity: {
    id: 'opp_1',
    product_category: 'Hiking boots',
    description: 'Waterproof boots for autumn walks',
  },
  target_audience: 'weekend hikers in rainy regions',
  brand_voice: 'warm, practical, outdoorsy',
  tone: 'playful',
};
const PRICE = createPriceTable().price('gpt-6-luna') as ModelPrice;

/** What a batch's usage costs at the Batch API's rates. */
const batchCost = (usage: NonNullable<Batch['usage']>) =>
  costOf(
    PRICE,
    {
      inputTokens: usage.input_tokens,
      cachedTokens: usage.input_tokens_details.cached_tokens,
      // The simulator's summary sums its lines' cache writes too (gpt-6-luna bills them).
      cacheWriteTokens:
        (usage.input_tokens_details as { cache_write_tokens?: number }).cache_write_tokens ?? 0,
      outputTokens: usage.output_tokens,
    },
    'batch',
  );
// Loading the tokenizer takes seconds under the test transform; pay it at import, not inside a test.
const { estimateInputTokens } = await loadTokenCounter();

afterEach(finishRunningJobs);

describe('POST /v1/batches', () => {
  it('submits one batch (one upload, one batch create, no generation) and reserves the worst case at half price', async () => {
    // No retries of cut-off answers reserved: the first calls alone (bulk.requests.test.ts adds them).
    const { post, sim, key, env } = await setup({ BULK_RETRY_PERCENT: '0' });
    const res = await post({ task: 'opportunities', items: ITEMS, metadata: { campaign: 'autumn' } });
    expect(res.status).toBe(202);
    const body = await res.json<JobBody>();
    expect(body).toMatchObject({
      object: 'bulk_job',
      task: 'opportunities',
      status: 'validating',
      model: 'gpt-6-luna',
      metadata: { campaign: 'autumn' },
      counts: { total: 3, submitted: 3, rejected: 0, approved: 0 },
      cost: { spent_usd: 0, settled: false },
    });
    expect(body.id).toMatch(/^bjob_/);
    expect(await simRequests(sim)).toEqual({ '/v1/files': 1, '/v1/batches': 1 });

    const standard = ITEMS.map((item) => opportunitiesTask(item)).reduce((sum, task) => {
      const input = estimateInputTokens({
        ...task,
        input: task.input as string,
        schema: z.toJSONSchema(task.schema),
      });
      return sum + estimateTextCost(PRICE, input, task.maxOutputTokens + REASONING_ALLOWANCE.low);
    }, 0);
    const reserved = nanos(body.cost.reserved_usd);
    expect(reserved).toBeGreaterThanOrEqual(Math.floor(standard / 2));
    expect(reserved).toBeLessThanOrEqual(Math.ceil((standard / 2) * 1.01));
    expect(nanos((await keyBudget(env, key)).reserved_usd)).toBe(reserved);

    const { batch, client } = await simBatch(sim, body.id);
    expect(batch).toMatchObject({
      endpoint: '/v1/responses',
      metadata: { campaign: 'autumn', gateway_job: body.id },
    });
    const lines = (await (await client.files.content(batch.input_file_id)).text()).trim().split('\n');
    const requests = lines.map((line) => JSON.parse(line));
    expect(requests.map((r) => r.custom_id)).toEqual(['0', '1', '2']);
    expect(requests[1]).toMatchObject({
      method: 'POST',
      url: '/v1/responses',
      body: {
        model: 'gpt-6-luna',
        store: false,
        // The answer's 1,200 plus the allowance of the default effort, which the line names.
        max_output_tokens: 1200 + REASONING_ALLOWANCE.low,
        reasoning: { effort: 'low' },
        text: { format: { type: 'json_schema' } },
      },
    });
  });

  it('refuses invalid items with 400 naming each index and problem, submitting and reserving nothing', async () => {
    const { post, sim, key, env } = await setup();
    const items = [ITEMS[0], { intent: '' }, { intent: 'boots', context: { price_band: 'free' } }];
    const res = await post({ task: 'opportunities', items });
    expect(res.status).toBe(400);
    const { error } = await res.json<ErrorBody>();
    expect(error).toMatchObject({
      type: 'invalid_request_error',
      code: 'invalid_request',
      param: 'items.1.intent',
    });
    expect(error.message).toContain('2 of 3 items are invalid');
    expect(error.details).toMatchObject({
      invalid_count: 2,
      invalid_items: [
        { index: 1, problems: [{ param: 'intent' }] },
        { index: 2, problems: [{ param: 'context.price_band' }] },
      ],
    });
    expect(await simRequests(sim)).toEqual({});
    expect((await keyBudget(env, key)).reserved_usd).toBe(0);
  });

  it.each([
    ['more items than BULK_MAX_ITEMS', { task: 'opportunities', items: ITEMS }, 'items'],
    [
      'a bulk creative asking for an image',
      { task: 'creatives', items: [{ ...CREATIVE, needs_visual: true }] },
      'items.0.needs_visual',
    ],
    ['an unknown task', { task: 'images', items: ITEMS }, 'task'],
    ['no items', { task: 'opportunities', items: [] }, 'items'],
    [
      'the reserved metadata key',
      { task: 'opportunities', items: ITEMS, metadata: { gateway_job: 'x' } },
      'metadata',
    ],
  ])('refuses %s with 400 at no cost', async (_, json, param) => {
    const { post, sim } = await setup({ BULK_MAX_ITEMS: '2' });
    const res = await post(json);
    expect(res.status).toBe(400);
    expect((await res.json<ErrorBody>()).error.param).toBe(param);
    expect(await simRequests(sim)).toEqual({});
  });

  it('refuses a body past 4 MB with 413 request_too_large, whatever MAX_BODY_BYTES allows, at no cost', async () => {
    const { post, sim, key, env } = await setup({ MAX_BODY_BYTES: String(16 * 1_048_576) });
    // 2,100 items of 2,000 characters: within BULK_MAX_ITEMS and each item's schema, about 4.2 MB.
    const items = Array.from({ length: 2100 }, () => ({ intent: 'boots and dry socks '.repeat(100) }));
    const res = await post({ task: 'opportunities', items });
    expect(res.status).toBe(413);
    expect((await res.json<ErrorBody>()).error).toMatchObject({
      type: 'invalid_request_error',
      code: 'request_too_large',
      request_id: expect.stringMatching(/^req_/),
    });
    expect(await simRequests(sim)).toEqual({});
    expect((await keyBudget(env, key)).reserved_usd).toBe(0);
  });

  it('refuses with 429 budget_exceeded, uploading nothing, when the key budget cannot cover the job', async () => {
    const { sim, env } = await setup();
    const { key } = await createTestKey({ daily_budget_usd: 0.000_001 });
    const res = await callGateway(
      '/v1/batches',
      { json: { task: 'opportunities', items: ITEMS }, headers: bearer(key) },
      env,
    );
    expect(res.status).toBe(429);
    const { error } = await res.json<ErrorBody>();
    expect(error.code).toBe('budget_exceeded');
    expect(error.message).toContain('at the batch price');
    expect(await simRequests(sim)).toEqual({});
  });

  it('completes at once, uploading nothing, when the local layers refuse every item', async () => {
    const { post, sim, key, env } = await setup();
    const res = await post({
      task: 'opportunities',
      items: [{ intent: 'get rich quick with no risk boots' }],
    });
    expect(res.status).toBe(202);
    const body = await job(env, key, (await res.json<JobBody>()).id);
    expect(body).toMatchObject({ status: 'completed', counts: { total: 1, submitted: 0, rejected: 1 } });
    expect(body.results?.[0]).toMatchObject({
      index: 0,
      ok: false,
      error: { code: 'content_policy_violation', details: { layer: 'business_rules' } },
    });
    expect(await simRequests(sim)).toEqual({});
  });
});

describe('GET /v1/batches/:id and cancel', () => {
  it('hides a job from every key but its owner: 404 not_found', async () => {
    const { post, env } = await setup();
    const { id } = await (await post({ task: 'opportunities', items: ITEMS })).json<JobBody>();
    const other = await createTestKey();
    for (const res of [await get(env, other.key, `/v1/batches/${id}`), await cancel(env, other.key, id)]) {
      expect(res.status).toBe(404);
      expect((await res.json<ErrorBody>()).error).toMatchObject({
        type: 'not_found_error',
        code: 'not_found',
      });
    }
    expect((await get(env, other.key, '/v1/batches/bjob_unknown')).status).toBe(404);
  });

  it('pages the results in input order with offset and limit (default 100, at most 1000)', async () => {
    const { post, key, env } = await setup();
    const items = Array.from({ length: 5 }, (_, i) => ({ intent: `Trail running shoes, size ${40 + i}` }));
    const { id } = await (await post({ task: 'opportunities', items })).json<JobBody>();
    const done = await finished(env, key, id);
    expect(done.results?.map((r) => r.index)).toEqual([0, 1, 2, 3, 4]);
    expect(done).toMatchObject({ offset: 0, limit: 100, has_more: false });
    const page = await job(env, key, id, '?offset=2&limit=2');
    expect(page.results?.map((r) => r.index)).toEqual([2, 3]);
    expect(page.has_more).toBe(true);
    expect((await job(env, key, id, '?offset=4&limit=2')).results?.map((r) => r.index)).toEqual([4]);
    expect((await job(env, key, id, '?offset=9')).results).toEqual([]);
    expect((await get(env, key, `/v1/batches/${id}?limit=1001`)).status).toBe(400);
  });
});

describe('the bulk poll (cron)', () => {
  it('takes a job through in_progress to completed: results in input order, validated, moderated, cached, settled', async () => {
    const { post, sim, key, env } = await setup({ METRICS_NAMESPACE: `t-${uniqueWord()}` });
    const config = { batch: { duration_ms: 60_000 }, moderation: { flagged_terms: ['zeppelin'] } };
    await simConfigure(sim, config);
    const { id } = await (await post({ task: 'opportunities', items: ITEMS })).json<JobBody>();
    await poll(env);
    const running = await job(env, key, id);
    expect(running.status).toBe('in_progress');
    expect(running.counts.completed).toBe(0);
    expect(running.results).toBeUndefined();
    // The simulator's clock is moved past the batch's end instead of waited for.
    await simConfigure(sim, { ...config, clock_offset_ms: 60_000 });
    await poll(env);
    const done = await job(env, key, id);
    expect(done).toMatchObject({
      status: 'completed',
      counts: { completed: 3, approved: 2, rejected: 1, errored: 0 },
    });
    const [first, flagged, third] = done.results ?? [];
    expect([first?.index, flagged?.index, third?.index]).toEqual([0, 1, 2]);
    for (const result of [first, third]) {
      expect(result?.ok).toBe(true);
      expect(OpportunitiesOutput.safeParse(result).success).toBe(true);
    }
    expect(flagged).toMatchObject({
      ok: false,
      error: { code: 'content_policy_violation', param: 'intent', details: { layer: 'openai' } },
    });
    // Three intents, one moderation call; the output and the input files were then deleted.
    expect(await simRequests(sim)).toMatchObject({ '/v1/moderations': 1, '/v1/files/{file_id}': 2 });

    const single = await callGateway('/v1/opportunities', { json: ITEMS[0], headers: bearer(key) }, env);
    expect(single.headers.get('x-cache')).toBe('HIT');
    const { index: _i, ok: _ok, ...cached } = first ?? {};
    expect(await single.json()).toEqual(cached);
    expect((await simRequests(sim))['/v1/responses']).toBeUndefined();

    const { batch } = await simBatch(sim, id);
    const usage = batch.usage as NonNullable<Batch['usage']>;
    // Per-task token metrics: the three lines as calls of the task, its two approved results, what
    // the job settled. At least: the running set is shared, and a test file running alongside may
    // leave a job this file's poll collects into the same figures.
    const { opportunities } = await taskMetrics(env);
    expect(opportunities?.calls).toBeGreaterThanOrEqual(3);
    expect(opportunities?.approved_results).toBeGreaterThanOrEqual(2);
    expect(opportunities?.input_tokens).toBeGreaterThanOrEqual(usage.input_tokens);
    expect(opportunities?.output_tokens).toBeGreaterThanOrEqual(usage.output_tokens);
    expect(nanos(opportunities?.cost_usd ?? 0)).toBeGreaterThanOrEqual(nanos(done.cost.spent_usd) - 1);
    if (opportunities?.calls === 3) {
      expect(opportunities).toMatchObject({ approved_results: 2, input_tokens: usage.input_tokens });
      expect(Math.abs(nanos(opportunities.cost_usd ?? 0) - nanos(done.cost.spent_usd))).toBeLessThanOrEqual(
        1,
      );
    }
    const billed = batchCost(usage);
    expect(done.cost.settled).toBe(true);
    expect(nanos(done.cost.spent_usd)).toBe(billed);
    expect(billed).toBeLessThan(nanos(done.cost.reserved_usd));
    const figures = await keyBudget(env, key);
    expect(nanos(figures.spent_usd)).toBe(billed);
    expect(figures.reserved_usd).toBe(0);
  });

  it('collects a large job over several runs from its output read once, and settles exactly what the batch billed', async () => {
    // Four runs of 100 items; the output (~1.5 KB a line) spans many reads and staged writes.
    const { post, sim, key, env } = await setup({ BULK_COLLECT_PER_RUN: '100', BULK_RETRY_PERCENT: '0' });
    const items = Array.from({ length: 400 }, () => ({
      intent: `Trail shoes for wet hikes, ${uniqueWord()}`,
    }));
    const { id } = await (await post({ task: 'opportunities', items })).json<JobBody>();
    await poll(env);
    const partial = await job(env, key, id);
    expect(partial.status).toBe('collecting');
    expect(partial.counts.approved + partial.counts.rejected + partial.counts.errored).toBe(100);
    const done = await finished(env, key, id);
    expect(done.status).toBe('completed');
    expect(done.counts.approved + done.counts.rejected + done.counts.errored).toBe(400);
    expect(done.counts.approved).toBeGreaterThan(390);
    const results = (await job(env, key, id, '?limit=1000')).results ?? [];
    expect(results.map((r) => r.index)).toEqual(items.map((_, i) => i));
    // The output file was downloaded by the first collecting run only; later runs read Redis.
    expect((await simRequests(sim))['/v1/files/{file_id}/content']).toBe(1);

    const usage = (await simBatch(sim, id)).batch.usage as NonNullable<Batch['usage']>;
    const billed = batchCost(usage);
    expect(nanos(done.cost.spent_usd)).toBe(billed);
    expect(await keyBudget(env, key)).toMatchObject({ spent_usd: done.cost.spent_usd, reserved_usd: 0 });
  });

  it('asks an answer cut off at its cap again once, at twice the cap, within the retries its reservation holds', async () => {
    // Room for one retry (1 % of two items, at least one).
    const { post, sim, key, env } = await setup({
      BULK_RETRY_PERCENT: '1',
      METRICS_NAMESPACE: `t-${uniqueWord()}`,
    });
    // Every reasoning call thinks 2,500 tokens: past a line's cap (1,200 + 1,024), within twice it.
    await simConfigure(sim, { profile: 'realistic', time_scale: 0.0001, reasoning_tokens: 2500 });
    const run = uniqueWord();
    const items = [{ intent: `boots for a wet ${run}` }, { intent: `tents for a windy ${run}` }];
    const { id } = await (await post({ task: 'opportunities', items })).json<JobBody>();
    const done = await finished(env, key, id);
    expect(done).toMatchObject({ status: 'completed', counts: { completed: 2, approved: 1, errored: 1 } });
    const [retried, cut] = done.results ?? [];
    expect(retried?.ok).toBe(true);
    expect(OpportunitiesOutput.safeParse(retried).success).toBe(true);
    expect(cut).toMatchObject({ ok: false, error: { code: 'invalid_model_output' } });
    expect(JSON.stringify(cut)).toContain('cut off (max_output_tokens)');
    // One direct call, at twice the line's cap.
    expect((await simRequests(sim))['/v1/responses']).toBe(1);
    // Settled at what the provider billed: both batch lines at half price, the retry at the standard one.
    const invoice = (await (await fetch(`${bindings.SIMULATOR_URL}/_sim/invoice?key=${sim}`)).json()) as {
      total_usd: number;
    };
    expect(invoice.total_usd).toBeGreaterThan(0);
    expect(Math.abs(done.cost.spent_usd - invoice.total_usd)).toBeLessThanOrEqual(invoice.total_usd * 0.01);
    expect((await keyBudget(env, key)).reserved_usd).toBe(0);
    // Per-task metrics count the two lines and the retry: the lines reasoned up to their cap, the retry
    // its 2,500 tokens.
    // At least, as above: another file's job may be collected into the same figures.
    const { opportunities } = await taskMetrics(env);
    const lineCap = 1200 + REASONING_ALLOWANCE.low;
    expect(opportunities?.calls).toBeGreaterThanOrEqual(3);
    expect(opportunities?.approved_results).toBeGreaterThanOrEqual(1);
    expect(opportunities?.reasoning_tokens).toBeGreaterThanOrEqual(2 * lineCap + 2500);
    if (opportunities?.calls === 3) {
      expect(opportunities).toMatchObject({ approved_results: 1, reasoning_tokens: 2 * lineCap + 2500 });
      expect(Math.abs((opportunities.cost_usd ?? 0) - done.cost.spent_usd)).toBeLessThanOrEqual(1e-9);
    }
  });

  it('collects bulk creatives text-only; copy failing brand safety is creative_rejected and never cached', async () => {
    // The simulator's copy for CREATIVE (not for the mug) says "Target audience" (it draws words from
    // the prompt's input, labels included); the client's text never says "target".
    const { post, key, env } = await setup({
      MODERATION_RULES: JSON.stringify({ blocked_terms: ['target'] }),
    });
    const mug = {
      ...CREATIVE,
      opportunity: { id: 'opp_2', product_category: 'Camping mugs', description: 'Insulated steel mug' },
    };
    const urgent = { ...mug, brand_voice: 'act now, limited time only' };
    const submitted = await (
      await post({ task: 'creatives', items: [CREATIVE, mug, urgent] })
    ).json<JobBody>();
    expect(submitted.counts).toMatchObject({ total: 3, submitted: 2, rejected: 1 });
    const done = await finished(env, key, submitted.id);
    expect(done).toMatchObject({ status: 'completed', counts: { approved: 1, rejected: 2 } });
    const [rejected, approved, refused] = done.results ?? [];
    expect(rejected).toMatchObject({
      ok: false,
      error: {
        code: 'creative_rejected',
        details: { layer: 'brand_safety', pattern: 'target' },
      },
    });
    expect(approved).toMatchObject({
      ok: true,
      creative: {
        image: null,
        moderation: {
          approved: true,
          checked: { openai: 'passed', business_rules: 'passed', brand_safety: 'passed' },
        },
      },
    });
    expect(refused).toMatchObject({
      ok: false,
      error: { code: 'content_policy_violation', param: 'opportunity' },
    });

    const single = (json: unknown) => callGateway('/v1/creatives', { json, headers: bearer(key) }, env);
    const hit = await single({ ...mug, needs_visual: false });
    expect(hit.headers.get('x-cache')).toBe('HIT');
    const { cache: _c, ...creative } = await hit.json<Creative>();
    expect(creative).toEqual(approved?.creative);
    expect((await single({ ...CREATIVE, needs_visual: false })).headers.get('x-cache')).not.toBe('HIT');
  });

  it('refuses bulk opportunities whose answer moderation flags: creative_rejected, counted as rejected, never cached', async () => {
    // The simulator's answers repeat the "Shopper intent:" the gateway puts before each intent.
    const { post, key, env } = await setup({
      MODERATION_RULES: JSON.stringify({ blocked_terms: ['shopper'] }),
    });
    const items = [ITEMS[0], ITEMS[2]];
    const { id } = await (await post({ task: 'opportunities', items })).json<JobBody>();
    const done = await finished(env, key, id);
    expect(done).toMatchObject({ status: 'completed', counts: { approved: 0, rejected: 2 } });
    for (const result of done.results ?? []) {
      expect(result).toEqual({
        index: expect.any(Number),
        ok: false,
        error: expect.objectContaining({
          code: 'creative_rejected',
          details: expect.objectContaining({ layer: 'brand_safety', pattern: 'shopper' }),
        }),
      });
    }
    const single = await callGateway('/v1/opportunities', { json: ITEMS[0], headers: bearer(key) }, env);
    expect([single.status, single.headers.get('x-cache')]).toEqual([422, null]);
  });

  it('cancels a running job: the items finished by then, the rest batch_cancelled; cancelling again is 409', async () => {
    const { post, sim, key, env } = await setup();
    const config = { batch: { duration_ms: 60_000 } };
    await simConfigure(sim, config);
    const items = Array.from({ length: 10 }, (_, i) => ({ intent: `Wool hiking socks, pack of ${i + 2}` }));
    const { id } = await (await post({ task: 'opportunities', items })).json<JobBody>();
    // Three tenths of the batch's time have passed when the client cancels.
    await simConfigure(sim, { ...config, clock_offset_ms: 18_000 });
    const res = await cancel(env, key, id);
    expect(res.status).toBe(200);
    expect((await res.json<JobBody>()).status).toBe('cancelling');
    const done = await finished(env, key, id);
    expect(done.status).toBe('cancelled');
    const ok = done.results?.filter((r) => r.ok) ?? [];
    expect(ok.length).toBe(3);
    expect(done.results?.filter((r) => !r.ok).map((r) => r.error?.code)).toEqual(
      Array(10 - ok.length).fill('batch_cancelled'),
    );
    expect(done.counts).toMatchObject({ approved: ok.length, errored: 10 - ok.length });
    expect(done.cost.spent_usd).toBeGreaterThan(0);
    expect((await keyBudget(env, key)).reserved_usd).toBe(0);
    const again = await cancel(env, key, id);
    expect(again.status).toBe(409);
    expect((await again.json<ErrorBody>()).error).toMatchObject({
      type: 'invalid_request_error',
      code: 'conflict',
    });
  });

  it('reports the items an expired batch never ran as batch_expired', async () => {
    const { post, sim, key, env } = await setup();
    await simConfigure(sim, { batch: { outcome: 'expired' } });
    const items = Array.from({ length: 4 }, (_, i) => ({ intent: `Rain jacket in colour ${i}` }));
    const { id } = await (await post({ task: 'opportunities', items })).json<JobBody>();
    const done = await finished(env, key, id);
    expect(done.status).toBe('expired');
    expect(done.results?.map((r) => (r.ok ? 'ok' : r.error?.code))).toEqual([
      'ok',
      'ok',
      'batch_expired',
      'batch_expired',
    ]);
  });

  it("fails every item of a failed batch with batch_failed and OpenAI's reason, and releases the reservation", async () => {
    const { post, sim, key, env } = await setup();
    await simConfigure(sim, { batch: { outcome: 'failed' } });
    const { id } = await (await post({ task: 'opportunities', items: ITEMS })).json<JobBody>();
    const done = await finished(env, key, id);
    expect(done).toMatchObject({ status: 'failed', cost: { spent_usd: 0, settled: true } });
    expect(done.results?.every((r) => r.error?.code === 'batch_failed')).toBe(true);
    expect(done.results?.[0]?.error?.message).toContain('Enqueued token limit');
    expect(await keyBudget(env, key)).toMatchObject({ spent_usd: 0, reserved_usd: 0 });
  });
});
