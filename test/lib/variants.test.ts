import { describe, expect, it } from 'vitest';
import { parseEnv } from '../../lib/env';
import { InvalidRequestError } from '../../lib/errors';
import { chooseVariant, variantField, withVariant } from '../../lib/variants';
import { bindings } from '../support/env';

const envWithVariants = (variants: unknown) =>
  parseEnv({ ...bindings, PROMPT_VARIANTS: JSON.stringify({ creatives: variants }) });

const TASK = { name: 't', schema: {} as never, instructions: 'Base.', input: 'x', maxOutputTokens: 10 };

describe('prompt variants', () => {
  it('is off without configuration: no variant, no cache-key field, the task unchanged', () => {
    const env = parseEnv(bindings);
    const variant = chooseVariant(env, 'creatives', { a: 1 });
    expect(variant).toBeUndefined();
    expect(variantField(variant)).toEqual({});
    expect(withVariant(TASK, variant)).toBe(TASK);
  });

  it('assigns by weight, stickily: the same unit always gets the same variant', () => {
    const env = envWithVariants([
      { name: 'a', weight: 3 },
      { name: 'b', weight: 1, instructions: 'Be brief.' },
      { name: 'off', weight: 0 },
    ]);
    const counts: Record<string, number> = {};
    for (let i = 0; i < 4000; i++) {
      const name = chooseVariant(env, 'creatives', { unit: i })?.name ?? '?';
      counts[name] = (counts[name] ?? 0) + 1;
      expect(chooseVariant(env, 'creatives', { unit: i })?.name).toBe(name);
    }
    expect(counts.off).toBeUndefined();
    // 3:1 within a few percent.
    expect((counts.a ?? 0) / 4000).toBeGreaterThan(0.7);
    expect((counts.a ?? 0) / 4000).toBeLessThan(0.8);
    expect((counts.a ?? 0) + (counts.b ?? 0)).toBe(4000);
  });

  it('appends the variant instructions and names it in the cache key', () => {
    const env = envWithVariants([{ name: 'b', weight: 1, instructions: 'Be brief.' }]);
    const variant = chooseVariant(env, 'creatives', {});
    expect(withVariant(TASK, variant).instructions).toBe('Base.\n\nBe brief.');
    expect(variantField(variant)).toEqual({ variant: 'b' });
  });

  it('lets a request force any configured variant, weight 0 included, and refuses unknown names', () => {
    const env = envWithVariants([
      { name: 'a', weight: 1 },
      { name: 'off', weight: 0 },
    ]);
    expect(chooseVariant(env, 'creatives', {}, 'off')?.name).toBe('off');
    expect(() => chooseVariant(env, 'creatives', {}, 'nope')).toThrow(InvalidRequestError);
  });
});
