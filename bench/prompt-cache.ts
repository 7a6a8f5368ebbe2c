/**
 * Prompt caching (#19): 100 creative misses of varied requests (copy only: an image costs the same
 * either way and would drown the difference). Through the gateway, on the stack's simulator account:
 * the share of input tokens the invoice bills as cached, and tokens and dollars per approved creative.
 * Then the same requests straight to the simulator, each side on a fresh account and with the same
 * call shape, once with the prompt as it was before #19 (bench/fixtures) and once with today's: the
 * invoices compared, cache writes included.
 */
import { zodTextFormat } from 'openai/helpers/zod';
import { creativeTask } from '../lib/creatives/prompt.ts';
import { CreativeOutput, type CreativeRequest } from '../lib/creatives/schema.ts';
import { PRE_19_CREATIVE_INSTRUCTIONS, pre19Describe } from './fixtures/pre-19-creative-prompt.ts';
import { pool, postJson, settledSpend } from './lib/client.ts';
import type { Stack } from './lib/stack.ts';

const MODEL = 'gpt-6-luna';
const CATEGORIES = ['Trail shoes', 'Coffee grinders', 'Rain jackets', 'Picnic sets', 'Standing desks'];
const AUDIENCES = ['city cyclists', 'home baristas', 'young families', 'remote workers', 'retired gardeners'];
const VOICES = ['warm and practical', 'bold and playful', 'calm and premium', 'plain and friendly'];
const TONES = ['informative', 'playful', 'premium', 'urgent', undefined] as const;

/** 100 distinct requests: every category × audience × voice, with tones in turn. */
export function variedCreatives(count = 100): CreativeRequest[] {
  return Array.from({ length: count }, (_, i) => {
    const category = CATEGORIES[i % CATEGORIES.length] as string;
    const audience = AUDIENCES[Math.floor(i / CATEGORIES.length) % AUDIENCES.length] as string;
    const tone = TONES[i % TONES.length];
    return {
      opportunity: {
        id: `opp_pc${i}`,
        product_category: category,
        description: `${category} for ${audience}, model ${i}`,
      },
      target_audience: audience,
      brand_voice: VOICES[i % VOICES.length] as string,
      ...(tone ? { tone } : {}),
      needs_visual: false,
    };
  });
}

interface Tokens {
  requests: number;
  input_tokens: number;
  cached_input_tokens: number;
  cache_write_tokens: number;
  output_tokens: number;
  usd: number;
}
const ZERO: Tokens = {
  requests: 0,
  input_tokens: 0,
  cached_input_tokens: 0,
  cache_write_tokens: 0,
  output_tokens: 0,
  usd: 0,
};

async function modelTotals(stack: Stack, simKey: string): Promise<Tokens> {
  const res = await fetch(`${stack.simulatorUrl}/_sim/invoice?key=${encodeURIComponent(simKey)}`);
  const invoice = (await res.json()) as { by_model: Record<string, Tokens> };
  return { ...ZERO, ...invoice.by_model[MODEL] };
}

const minus = (a: Tokens, b: Tokens): Tokens =>
  Object.fromEntries(
    Object.keys(ZERO).map((k) => [k, a[k as keyof Tokens] - b[k as keyof Tokens]]),
  ) as unknown as Tokens;

const summary = (t: Tokens, approved: number) => ({
  ...t,
  cached_share: t.input_tokens ? t.cached_input_tokens / t.input_tokens : 0,
  approved,
  tokens_per_approved: approved ? (t.input_tokens + t.output_tokens) / approved : null,
  usd_per_approved: approved ? t.usd / approved : null,
});

/** One Responses call per request, as the gateway's first attempt shapes it, on `simKey`'s own account. */
async function direct(
  stack: Stack,
  simKey: string,
  requests: CreativeRequest[],
  prompt: 'pre-19' | 'current',
) {
  const format = zodTextFormat(CreativeOutput, 'creative');
  let approved = 0;
  for (const request of requests) {
    const task = creativeTask(request);
    const body = {
      model: MODEL,
      instructions: prompt === 'current' ? task.instructions : PRE_19_CREATIVE_INSTRUCTIONS,
      input: [
        {
          role: 'user',
          content: [{ type: 'input_text', text: prompt === 'current' ? task.input : pre19Describe(request) }],
        },
      ],
      text: { format },
      max_output_tokens: 1624,
      reasoning: { effort: 'low' },
      ...(prompt === 'current' ? { prompt_cache_key: task.cacheKey } : {}),
      store: false,
    };
    const res = await fetch(`${stack.simulatorUrl}/v1/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${simKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.ok) approved += 1;
    await res.arrayBuffer();
  }
  return summary(await modelTotals(stack, simKey), approved);
}

export async function benchPromptCache(stack: Stack, count = 100) {
  const requests = variedCreatives(count);
  const key = await stack.createKey({ rpm: 100_000 });
  const before = await modelTotals(stack, stack.simKeys.primary);
  const statuses = await pool(requests, 4, async (request) => {
    const res = await postJson(`${stack.gatewayUrl}/v1/creatives`, key, request);
    return res.status;
  });
  const spend = await settledSpend(stack, key);
  const gateway = summary(
    minus(await modelTotals(stack, stack.simKeys.primary), before),
    statuses.filter((s) => s === 200).length,
  );
  const run = crypto.randomUUID().slice(0, 8);
  const pre19 = await direct(stack, `bench-pre19-${run}`, requests, 'pre-19');
  const current = await direct(stack, `bench-current-${run}`, requests, 'current');
  return {
    model: MODEL,
    requests: count,
    gateway: { ...gateway, statuses: countBy(statuses), ledgerUsd: spend.spent_usd },
    direct: { pre19, current, saving: pre19.usd ? 1 - current.usd / pre19.usd : 0 },
  };
}

export type PromptCacheResult = Awaited<ReturnType<typeof benchPromptCache>>;

function countBy(values: number[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
