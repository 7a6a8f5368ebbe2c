import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InvalidModelOutputError } from '../../../lib/errors';
import { generateStructured, type StructuredTask } from '../../../lib/providers/structured';
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

  it('treats a truncated answer (status incomplete) as unusable', async () => {
    const key = simKey();
    const h = simHarness(key);
    const err = await generateStructured(h.deps, FAST_POLICY, { ...task, maxOutputTokens: 16 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InvalidModelOutputError);
    expect((err as Error).message).toMatch(/cut off/);
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
