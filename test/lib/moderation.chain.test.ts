import { describe, expect, it } from 'vitest';
import { createModerationRules, moderateContent } from '../../lib/moderation';
import { createProviders } from '../../lib/providers';
import { UpstreamRequestError } from '../../lib/providers/failures';
import { APPROVED_BY_ALL_LAYERS, URGENCY_REJECTED } from '../support/moderation';
import { simConfigure, simHarness, simKey, simRequests } from '../support/providers';

const rules = createModerationRules(undefined);
const NO_RETRIES = { maxRetries: 0, baseDelayMs: 0, maxDelayMs: 0 };

/** The chain over a simulator provider of its own (own key, own breaker name). */
function chainOn(key: string, failClosed = true) {
  const { name, deps } = simHarness(key);
  const providers = createProviders(deps, NO_RETRIES);
  return {
    name,
    run: (input: { text?: string; imageUrls?: string[] }) =>
      moderateContent({ providers, rules, failClosed }, input),
  };
}

const calls = async (key: string) => (await simRequests(key))['/v1/moderations'] ?? 0;

describe('moderateContent', () => {
  it('approves clean text after all three layers, naming who served the OpenAI call', async () => {
    const key = simKey();
    const chain = chainOn(key);
    const { verdict, served } = await chain.run({ text: 'Waterproof boots for autumn walks' });
    expect(verdict).toMatchObject(APPROVED_BY_ALL_LAYERS);
    expect(Object.keys(verdict.categories)).toHaveLength(13);
    expect(Object.values(verdict.categories).every((v) => v === false)).toBe(true);
    expect(served).toEqual({ provider: chain.name, model: 'omni-moderation-latest' });
    expect(await calls(key)).toBe(1);
  });

  it('rejects at layer 1 with the categories OpenAI flagged', async () => {
    const { verdict } = await chainOn(simKey()).run({ text: 'Boots to kill it on the trail' });
    expect(verdict).toMatchObject({
      approved: false,
      layer: 'openai',
      reason: 'flagged by openai moderation',
      checked: { openai: 'flagged', business_rules: 'passed', brand_safety: 'passed' },
    });
    expect(verdict.categories).toMatchObject({
      violence: true,
      'harassment/threatening': true,
      sexual: false,
    });
    expect(verdict.pattern).toBe('harassment, harassment/threatening, violence');
  });

  it('runs the local layers first: a business-rule hit makes no moderation call', async () => {
    const key = simKey();
    const chain = chainOn(key);
    const { verdict, served } = await chain.run({ text: 'Act now: boots to kill it on the trail' });
    expect(verdict).toEqual(URGENCY_REJECTED);
    expect(served).toBeNull();
    expect(await calls(key)).toBe(0);
  });

  it('runs both local layers and names the business rule when both flag', async () => {
    const key = simKey();
    const { verdict } = await chainOn(key).run({ text: 'Hurry: the #1 boots' });
    expect(verdict).toMatchObject({
      layer: 'business_rules',
      pattern: 'urgency',
      checked: { openai: 'skipped', business_rules: 'flagged', brand_safety: 'flagged' },
    });
    const brand = await chainOn(key).run({ text: 'The #1 boots' });
    expect(brand.verdict).toMatchObject({
      layer: 'brand_safety',
      reason: 'unsubstantiated claim',
      pattern: '#1',
      checked: { openai: 'skipped', business_rules: 'passed', brand_safety: 'flagged' },
    });
    expect(await calls(key)).toBe(0);
  });

  it('sends images to OpenAI only: no local layer reads a URL, a sim-flag image is rejected', async () => {
    const key = simKey();
    const chain = chainOn(key);
    const clean = await chain.run({ imageUrls: ['https://cdn.example.com/act-now-secret.png'] });
    expect(clean.verdict).toMatchObject({
      approved: true,
      checked: { openai: 'passed', business_rules: 'passed', brand_safety: 'passed' },
    });
    const { verdict } = await chain.run({
      text: 'Waterproof boots',
      imageUrls: ['https://cdn.example.com/sim-flag.png'],
    });
    expect(verdict).toMatchObject({
      approved: false,
      layer: 'openai',
      pattern: 'violence, violence/graphic',
    });
    expect(verdict.categories['violence/graphic']).toBe(true);
    expect(await calls(key)).toBe(2);
  });

  it('fails closed when the moderation API is unavailable', async () => {
    const key = simKey();
    await simConfigure(key, { faults: [{ kind: 'status', status: 503 }] });
    const { verdict, served } = await chainOn(key).run({ text: 'Waterproof boots' });
    expect(verdict).toEqual({
      approved: false,
      layer: 'openai',
      reason: 'moderation unavailable',
      categories: {},
      pattern: null,
      checked: { openai: 'unavailable', business_rules: 'passed', brand_safety: 'passed' },
    });
    expect(served).toBeNull();
    expect(await calls(key)).toBe(1);
  });

  it('fails open when configured: approved on the local layers, openai unavailable', async () => {
    const key = simKey();
    await simConfigure(key, { faults: [{ kind: 'status', status: 503 }] });
    const chain = chainOn(key, false);
    const { verdict } = await chain.run({ text: 'Waterproof boots' });
    expect(verdict).toMatchObject({
      approved: true,
      layer: null,
      checked: { openai: 'unavailable', business_rules: 'passed', brand_safety: 'passed' },
    });
    // The local layers still reject on their own.
    expect((await chain.run({ text: 'Insider prices' })).verdict.layer).toBe('business_rules');
  });

  it('throws an upstream request error (bad input) instead of calling it unavailable', async () => {
    const key = simKey();
    await simConfigure(key, { faults: [{ kind: 'status', status: 400 }] });
    await expect(
      chainOn(key, false).run({ imageUrls: ['https://cdn.example.com/a.png'] }),
    ).rejects.toBeInstanceOf(UpstreamRequestError);
  });

  it('approves nothing-to-moderate without a call', async () => {
    const key = simKey();
    const { verdict } = await chainOn(key).run({ text: '', imageUrls: [] });
    expect(verdict).toMatchObject({ approved: true, checked: { openai: 'skipped' } });
    expect(await calls(key)).toBe(0);
  });
});
