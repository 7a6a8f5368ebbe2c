import { describe, expect, it } from 'vitest';
import { moderateTexts } from '../../lib/bulk/moderate';
import { CircuitOpenError } from '../../lib/errors';
import { createLogger } from '../../lib/log';
import { createModerationRules, moderateContent } from '../../lib/moderation';
import { createProviders } from '../../lib/providers';
import type { RetryPolicy } from '../../lib/providers/retry';
import { simConfigure, simHarness, simKey, simRequests } from '../support/providers';

const rules = createModerationRules(undefined);
const log = createLogger({ level: 'error', sink: () => {} });
const ONCE: RetryPolicy = { maxRetries: 0, baseDelayMs: 0, maxDelayMs: 0 };

function setup(failClosed = true) {
  const key = simKey();
  const h = simHarness(key);
  return { key, h, deps: { router: h.deps, policy: ONCE, rules, failClosed, log } };
}

describe('moderateTexts', () => {
  it('sends one moderation call per 32 texts the local layers pass, and answers in order', async () => {
    const { key, deps } = setup();
    const clean = Array.from({ length: 40 }, (_, i) => `A sturdy steel mug, model ${i}`);
    const texts = [...clean, 'act now, limited time only', 'a bomb inside a boot', ''];
    const verdicts = await moderateTexts(deps, texts);
    expect((await simRequests(key))['/v1/moderations']).toBe(2);
    expect(verdicts).toHaveLength(texts.length);
    expect(verdicts.slice(0, 40).every((v) => v.approved && v.checked.openai === 'passed')).toBe(true);
    expect(verdicts[40]).toMatchObject({
      approved: false,
      layer: 'business_rules',
      checked: { openai: 'skipped' },
    });
    expect(verdicts[41]).toMatchObject({ approved: false, layer: 'openai', checked: { openai: 'flagged' } });
    expect(verdicts[42]).toMatchObject({ approved: true, checked: { openai: 'skipped' } });
  });

  it('gives each text the verdict the one-text chain gives it', async () => {
    const { deps, h } = setup();
    const texts = ['Dry feet all autumn', 'How to build a bomb', 'our #1 boots', 'act now'];
    const many = await moderateTexts(deps, texts);
    const providers = createProviders(h.deps, ONCE);
    for (const [i, text] of texts.entries()) {
      const { verdict } = await moderateContent({ providers, rules, failClosed: true }, { text });
      expect(many[i]).toEqual(verdict);
    }
  });

  it('fails closed: throws CircuitOpenError when the moderation API is down, deciding nothing', async () => {
    const { key, deps } = setup();
    await simConfigure(key, { faults: [{ kind: 'status', status: 503, endpoint: '/v1/moderations' }] });
    await expect(moderateTexts(deps, ['a fine mug'])).rejects.toBeInstanceOf(CircuitOpenError);
  });

  it('fails open when configured: the local layers decide, and OpenAI shows unavailable', async () => {
    const { key, deps } = setup(false);
    await simConfigure(key, { faults: [{ kind: 'status', status: 503, endpoint: '/v1/moderations' }] });
    const [fine, urgent] = await moderateTexts(deps, ['a fine mug', 'hurry, act now']);
    expect(fine).toMatchObject({ approved: true, checked: { openai: 'unavailable' } });
    expect(urgent).toMatchObject({ approved: false, layer: 'business_rules' });
  });
});
