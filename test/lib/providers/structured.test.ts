import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InvalidModelOutputError } from '../../../lib/errors';
import { INCOMPLETE_RETRY_FACTOR, REASONING_ALLOWANCE } from '../../../lib/providers/reasoning';
import { generateStructured } from '../../../lib/providers/structured';
import type { StructuredTask } from '../../../lib/providers/structured-calls';
import {
  FAST_POLICY,
  providerName,
  routerHarness,
  simConfigure,
  simHarness,
  simKey,
  simRequests,
  simTarget,
} from '../../support/providers';

const Opportunity = z.object({
  opportunities: z
    .array(
      z.object({
        title: z.string().max(60),
        product_category: z.string().max(40),
        relevance: z.number().min(0).max(1),
        needs_visual: z.boolean(),
      }),
    )
    .max(5),
  reasoning: z.string().max(200),
  tone: z.enum(['informative', 'playful', 'premium', 'urgent']),
  note: z.string().nullable(),
});

const task: StructuredTask<z.infer<typeof Opportunity>> = {
  name: 'opportunities',
  schema: Opportunity,
  instructions: 'Suggest commercial opportunities for the shopper intent.',
  input: 'waterproof hiking boots for a rainy autumn trip',
  maxOutputTokens: 800,
};

describe('generateStructured', () => {
  it('returns output validated against the zod schema, with usage and who served it', async () => {
    const key = simKey();
    const h = simHarness(key);
    const result = await generateStructured(h.deps, FAST_POLICY, task);
    expect(Opportunity.safeParse(result.data).success).toBe(true);
    expect(result).toMatchObject({ repairs: 0, attempts: 1, fallback: false, model: 'gpt-6-luna' });
    expect(result.usage.inputTokens).toBeGreaterThan(0);
    expect(result.usage.outputTokens).toBeGreaterThan(0);
    expect((await simRequests(key))['/v1/responses']).toBe(1);
  });

  it('repairs a schema-violating output once and bills both calls', async () => {
    const key = simKey();
    await simConfigure(key, { faults: [{ kind: 'schema_violation', times: 1 }] });
    const h = simHarness(key);
    const clean = await generateStructured(simHarness().deps, FAST_POLICY, task);
    const result = await generateStructured(h.deps, FAST_POLICY, task);
    expect(Opportunity.safeParse(result.data).success).toBe(true);
    expect(result.repairs).toBe(1);
    expect(result.attempts).toBe(2);
    expect(result.usage.inputTokens).toBeGreaterThan(clean.usage.inputTokens);
    expect((await simRequests(key))['/v1/responses']).toBe(2);
  });

  it('answers 502 invalid_model_output when the repair is invalid too', async () => {
    const key = simKey();
    await simConfigure(key, { faults: [{ kind: 'schema_violation' }] });
    const h = simHarness(key);
    const err = await generateStructured(h.deps, FAST_POLICY, task).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidModelOutputError);
    expect(err).toMatchObject({ status: 502, code: 'invalid_model_output' });
    // Both calls were billed, and the error says so, for the budget to settle.
    expect((err as InvalidModelOutputError).usage?.outputTokens).toBeGreaterThan(0);
    expect((await simRequests(key))['/v1/responses']).toBe(2);
  });

  it('treats a refusal as unusable: one repair, then invalid_model_output naming the refusal', async () => {
    const key = simKey();
    await simConfigure(key, { faults: [{ kind: 'refusal' }] });
    const h = simHarness(key);
    const err = await generateStructured(h.deps, FAST_POLICY, task).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidModelOutputError);
    expect((err as Error).message).toMatch(/refused/);
    expect((await simRequests(key))['/v1/responses']).toBe(2);
  });

  it('recovers from a refusal when the repair call answers', async () => {
    const key = simKey();
    await simConfigure(key, { faults: [{ kind: 'refusal', times: 1 }] });
    const result = await generateStructured(simHarness(key).deps, FAST_POLICY, task);
    expect(result.repairs).toBe(1);
    expect(Opportunity.safeParse(result.data).success).toBe(true);
  });

  /** A harness on `model` that records the body of every Responses call. */
  function recording(model: string) {
    const key = simKey();
    const target = simTarget(providerName(), key, { models: { text: model } });
    const sent: { max_output_tokens: number; reasoning?: { effort: string } }[] = [];
    target.client = target.client.withOptions({
      fetch: (url, init) => {
        if (String(url).endsWith('/responses')) sent.push(JSON.parse(String(init?.body)));
        return fetch(url, init);
      },
    });
    return { key, sent, deps: routerHarness([target]).deps };
  }

  it("gives a reasoning model the effort and a cap of the answer's own plus the effort's allowance", async () => {
    const h = recording('gpt-6-luna');
    await generateStructured(h.deps, FAST_POLICY, { ...task, reasoningEffort: 'medium' });
    expect(h.sent).toEqual([
      expect.objectContaining({
        max_output_tokens: 800 + REASONING_ALLOWANCE.medium,
        reasoning: { effort: 'medium' },
      }),
    ]);
    // A model that does not reason gets neither (OpenAI rejects the field there).
    const plain = recording('gpt-4.1-mini');
    await generateStructured(plain.deps, FAST_POLICY, task);
    expect(plain.sent).toHaveLength(1);
    expect(plain.sent[0]?.max_output_tokens).toBe(800);
    expect(plain.sent[0]).not.toHaveProperty('reasoning');
  });

  it('asks an answer cut off at its cap again, once, with twice the cap, and bills both calls', async () => {
    // The answer's size on this model, then a cap that cuts it but whose double does not.
    const probe = recording('gpt-4.1-mini');
    const whole = (await generateStructured(probe.deps, FAST_POLICY, task)).usage.outputTokens;
    const cap = Math.ceil(whole * 0.75);
    const h = recording('gpt-4.1-mini');
    const result = await generateStructured(h.deps, FAST_POLICY, { ...task, maxOutputTokens: cap });
    expect(Opportunity.safeParse(result.data).success).toBe(true);
    expect(h.sent.map((body) => body.max_output_tokens)).toEqual([cap, cap * INCOMPLETE_RETRY_FACTOR]);
    expect(result.repairs).toBe(1);
    expect(result.usage.outputTokens).toBe(cap + whole);
    expect((await simRequests(h.key))['/v1/responses']).toBe(2);
  });

  it('fails with invalid_model_output when the larger cap cuts the answer off too', async () => {
    const h = recording('gpt-4.1-mini');
    const err = await generateStructured(h.deps, FAST_POLICY, { ...task, maxOutputTokens: 16 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InvalidModelOutputError);
    expect((err as Error).message).toMatch(/cut off/);
    expect(h.sent.map((body) => body.max_output_tokens)).toEqual([16, 32]);
  });

  it('reports the reasoning tokens of a reasoning model, through either API, as part of the output', async () => {
    for (const api of ['responses', 'chat'] as const) {
      const key = simKey();
      await simConfigure(key, { profile: 'realistic', time_scale: 0.001, reasoning_tokens: 40 });
      const result = await generateStructured(simHarness(key, { api }).deps, FAST_POLICY, task);
      expect(result.usage.reasoningTokens).toBe(40);
      expect(result.usage.outputTokens).toBeGreaterThan(40);
    }
  });

  it('is deterministic for the same input on the simulator', async () => {
    const h = simHarness();
    const [a, b] = await Promise.all([
      generateStructured(h.deps, FAST_POLICY, task),
      generateStructured(h.deps, FAST_POLICY, task),
    ]);
    expect(a.data).toEqual(b.data);
  });

  it('sends images to a vision model', async () => {
    const key = simKey();
    const h = simHarness(key, { models: { vision: 'gpt-4.1-mini' } });
    const result = await generateStructured(h.deps, FAST_POLICY, {
      ...task,
      capability: 'vision',
      input: [
        { type: 'text', text: 'What could we sell next to this?' },
        { type: 'image', url: 'https://example.com/boots.png' },
      ],
    });
    expect(result.model).toBe('gpt-4.1-mini');
    expect(Opportunity.safeParse(result.data).success).toBe(true);
  });
});

describe('generateStructured on backups (Chat Completions)', () => {
  it('uses json_schema response_format on a backup with structured outputs', async () => {
    const key = simKey();
    const h = simHarness(key, { api: 'chat', structuredOutputs: true });
    const result = await generateStructured(h.deps, FAST_POLICY, task);
    expect(Opportunity.safeParse(result.data).success).toBe(true);
    expect((await simRequests(key))['/v1/chat/completions']).toBe(1);
  });

  it('puts the schema in the prompt for a backup without structured outputs, and still validates', async () => {
    const key = simKey();
    const h = simHarness(key, { api: 'chat', structuredOutputs: false });
    const result = await generateStructured(h.deps, FAST_POLICY, task);
    expect(Opportunity.safeParse(result.data).success).toBe(true);
    expect(result.repairs).toBe(0);
  });

  it('repairs a prompt-only backup that breaks the schema', async () => {
    const key = simKey();
    await simConfigure(key, { faults: [{ kind: 'schema_violation', times: 1 }] });
    const h = simHarness(key, { api: 'chat', structuredOutputs: false });
    const result = await generateStructured(h.deps, FAST_POLICY, task);
    expect(result.repairs).toBe(1);
  });

  it('falls back from a failing primary to the backup and validates the same way', async () => {
    const [primaryKey, backupKey] = [simKey(), simKey()];
    await simConfigure(primaryKey, { faults: [{ kind: 'status', status: 500 }] });
    const backup = providerName();
    const h = routerHarness([
      simTarget(providerName(), primaryKey),
      simTarget(backup, backupKey, {
        api: 'chat',
        structuredOutputs: false,
        models: { text: 'claude-sonnet-4' },
      }),
    ]);
    const result = await generateStructured(h.deps, { ...FAST_POLICY, maxRetries: 1 }, task);
    expect(result).toMatchObject({ provider: backup, model: 'claude-sonnet-4', fallback: true });
    expect(Opportunity.safeParse(result.data).success).toBe(true);
  });
});
