/**
 * Reasoning: 300 distinct requests per structured task (opportunities, creatives, image analyses) on the
 * simulator's `realistic` profile, where the model spends reasoning tokens against every output cap, drawn
 * from the simulator's own distribution for the effort asked. Target: ≥ 99 % of each task's calls
 * complete with a usable answer, none lost to an answer cut off at its cap. Reports how many needed the
 * retry with a larger cap. Runs its own stack, with the simulator's clock sped up 50×.
 */
import { startStack } from '../lib/stack.ts';
import { cleanTag, gw, type OwnStackDrill, readMetrics } from './harness.ts';

export const REASONING_TARGET = 0.99;
const PER_TASK = 300;
const CONCURRENCY = 24;
const TIME_SCALE = 0.02;

export const reasoningDrill: OwnStackDrill = async ({ scale, log }) => {
  const stack = await startStack({});
  try {
    const sim = stack.simKeys.primary;
    await stack.simConfigure(sim, { profile: 'realistic', time_scale: TIME_SCALE });
    const key = await stack.createKey({ rpm: 1_000_000 });
    const run = cleanTag();
    const perTask = Math.max(20, Math.round(PER_TASK * scale));
    const tasks: Record<string, (i: number) => { path: string; body: unknown }> = {
      opportunities: (i) => ({
        path: '/v1/opportunities',
        body: { intent: `reasoning ${run} shopper ${i} wants boots for ${i % 7} rainy days` },
      }),
      creatives: (i) => ({
        path: '/v1/creatives',
        body: {
          opportunity: { id: `o${i}`, product_category: 'boots', description: `boots model ${run}-${i}` },
          target_audience: 'hikers',
          brand_voice: 'warm and practical',
          needs_visual: false,
        },
      }),
      analyses: (i) => ({
        path: '/v1/images/analyze',
        // A PNG on the simulator's test image host, which the gateway fetches (docs/simulator.md).
        body: {
          image_url: `${stack.simulatorUrl}/_sim/images/boots-${run}-${i}`,
          context: `catalogue photo ${i}`,
        },
      }),
    };
    const figures: Record<string, unknown> = { per_task: perTask, time_scale: TIME_SCALE };
    const findings: string[] = [];
    const lost: Record<string, number> = {};
    for (const [name, make] of Object.entries(tasks)) {
      const before = await readMetrics(stack);
      const statuses = await pool(perTask, CONCURRENCY, async (i) => {
        const { path, body } = make(i);
        const reply = await gw(stack, path, { key, body, timeoutMs: 120_000 });
        return reply.status === 200
          ? 'ok'
          : `${reply.status} ${(reply.body as { error?: { code?: string } })?.error?.code ?? ''}`;
      });
      const after = await readMetrics(stack);
      const ok = statuses.filter((s) => s === 'ok').length;
      const share = ok / perTask;
      const failures: Record<string, number> = {};
      for (const s of statuses) if (s !== 'ok') failures[s] = (failures[s] ?? 0) + 1;
      figures[name] = { ok, share, second_calls: after.repairs - before.repairs, failures };
      log(`reasoning: ${name} ${ok}/${perTask} usable, ${after.repairs - before.repairs} second calls`);
      if (share < REASONING_TARGET) {
        lost[`${name}_unusable`] = perTask - ok;
        findings.push(
          `${name}: ${Math.round(share * 1000) / 10} % usable, below ${REASONING_TARGET * 100} %`,
        );
      }
    }
    // The simulator's own count: proof the calls reasoned, and how much.
    const invoice = (await (await fetch(`${stack.simulatorUrl}/_sim/invoice?key=${sim}`)).json()) as {
      by_model: Record<string, { requests: number; output_tokens: number; reasoning_tokens: number }>;
    };
    const luna = invoice.by_model['gpt-6-luna'];
    figures.reasoning_tokens_per_call = luna ? Math.round(luna.reasoning_tokens / luna.requests) : 0;
    figures.output_tokens_per_call = luna ? Math.round(luna.output_tokens / luna.requests) : 0;
    log(
      `reasoning: ${figures.reasoning_tokens_per_call} reasoning of ${figures.output_tokens_per_call} output tokens per call`,
    );
    if (!luna?.reasoning_tokens) {
      lost.no_reasoning = 1;
      findings.push('the simulator billed no reasoning tokens: the drill did not test reasoning');
    }
    const ok = Object.keys(lost).length === 0;
    return {
      name: 'reasoning',
      title: 'Reasoning: usable answers with reasoning tokens against every cap',
      ok,
      verdict: ok
        ? `≥ ${REASONING_TARGET * 100} % of ${perTask} calls per task usable`
        : `failed: ${findings[0]}`,
      lost,
      figures,
      findings,
    };
  } finally {
    await stack.stop();
  }
};

/** Runs `work(0..n-1)` with at most `concurrency` at once; results in index order. */
async function pool<T>(n: number, concurrency: number, work: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        results[i] = await work(i);
      }
    }),
  );
  return results;
}
