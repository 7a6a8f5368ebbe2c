import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/env';
import {
  BUSINESS_RULE_NAMES,
  checkBrandSafety,
  checkBusinessRules,
  createModerationRules,
  DEFAULT_BUSINESS_RULES,
} from '../../lib/moderation';
import { termMatcher, wordsOf } from '../../lib/moderation/text';

/** The ConfigError problems for `raw`, or a failure if it is accepted. */
function problemsOf(raw: unknown): string[] {
  try {
    createModerationRules(raw);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('config was accepted');
}

describe('createModerationRules', () => {
  it('builds the built-in rules when MODERATION_RULES is unset', () => {
    const rules = createModerationRules(undefined);
    expect(rules.businessRules.map((r) => r.name)).toEqual([...BUSINESS_RULE_NAMES]);
    expect(DEFAULT_BUSINESS_RULES.map((r) => r.name)).toEqual(['get_rich_quick', 'urgency', 'exclusivity']);
    expect(rules.claims.map((c) => c.term)).toContain('#1');
    expect(rules.competitors).toEqual([]);
    expect(checkBusinessRules('Act now', rules)?.pattern).toBe('urgency');
  });

  it('replaces only the lists it gives: rules, competitors, claims, blocked terms', () => {
    const rules = createModerationRules({
      business_rules: [{ name: 'free_shipping', pattern: '\\bfree shipping\\b', reason: 'shipping promise' }],
      competitors: ['Acme', 'Globex Corp'],
      claims: [],
    });
    expect(rules.businessRules.map((r) => r.name)).toEqual(['free_shipping']);
    expect(checkBusinessRules('Act now, hurry!', rules)).toBeNull();
    expect(checkBusinessRules('FREE-shipping on boots', rules)).toEqual({
      layer: 'business_rules',
      reason: 'shipping promise',
      pattern: 'free_shipping',
    });
    expect(checkBrandSafety('The #1 boots, clinically proven', rules)).toBeNull();
    expect(checkBrandSafety('Better than globex-corp boots', rules)?.pattern).toBe('Globex Corp');
    // Not given, so still the built-in list.
    expect(checkBrandSafety('Not a counterfeit', rules)?.pattern).toBe('counterfeit');
  });

  it('applies a rule’s own flags: without i it is case-sensitive', () => {
    const rules = createModerationRules({
      business_rules: [{ name: 'shout', pattern: 'BUY', flags: 'u', reason: 'shouting' }],
    });
    expect(checkBusinessRules('BUY boots', rules)?.pattern).toBe('shout');
    expect(checkBusinessRules('buy boots', rules)).toBeNull();
  });

  it('reports an invalid regular expression with its path', () => {
    const problems = problemsOf({
      business_rules: [
        ...DEFAULT_BUSINESS_RULES.slice(0, 2),
        { name: 'broken', pattern: 'limited (time', reason: 'x' },
      ],
    });
    expect(problems).toEqual(['MODERATION_RULES.business_rules.2.pattern: invalid regular expression']);
  });

  it.each([
    [{ business_rules: [{ name: 'a', pattern: 'x', flags: 'g', reason: 'r' }] }, 'business_rules.0.flags'],
    [{ business_rules: [{ name: 'a', pattern: 'x', flags: 'uv', reason: 'r' }] }, 'business_rules.0.flags'],
    [{ business_rules: [{ name: 'A b', pattern: 'x', reason: 'r' }] }, 'business_rules.0.name'],
    [{ business_rules: [{ name: 'a', pattern: 'x' }] }, 'business_rules.0.reason'],
    [
      {
        business_rules: [
          { name: 'a', pattern: 'x', reason: 'r' },
          { name: 'a', pattern: 'y', reason: 'r' },
        ],
      },
      'business_rules.1.name',
    ],
    [{ claims: ['ok', ''] }, 'claims.1'],
    [{ competitors: 'Acme' }, 'competitors'],
    [{ competitor: ['Acme'] }, ''],
    [['Acme'], ''],
  ])('rejects %j naming MODERATION_RULES.%s', (raw, path) => {
    const problems = problemsOf(raw);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      new RegExp(`^MODERATION_RULES${path ? `\\.${path.replaceAll('.', '\\.')}` : ''}: `),
    );
  });
});

describe('text views', () => {
  it('reads words through case, punctuation, spacing, accents and invisible characters', () => {
    expect(wordsOf('ACT-NOW!!')).toBe('ACT NOW');
    expect(wordsOf('  act \n\t now… ')).toBe('act now');
    expect(wordsOf('ácť\u200b nōw')).toBe('act now');
    expect(wordsOf('ＡＣＴ ＮＯＷ')).toBe('ACT NOW');
    expect(wordsOf("Don't miss")).toBe('Dont miss');
  });

  it.each([
    ['#1', 'our #1 boots', true],
    ['#1', 'the #10 boots', false],
    ['#1', 'pack of 1', false],
    ['cure', 'a cure for cold feet', true],
    ['cure', 'secure checkout', false],
    ['cure', 'cured ham', false],
    ["world's best", 'the worlds best boots', true],
    ["world's best", 'the WORLD’S-BEST boots', true],
    ['knock-off', 'no knockoff here', true],
    ['knock-off', 'no knock off here', true],
    ['best in the world', 'best   in-the.world', true],
    ['Nestlé', 'nestle cocoa', true],
    ['a+b (c)', 'A+B (C) kit', true],
  ])('term %j in %j: %s', (term, text, expected) => {
    expect(termMatcher(term).test(text)).toBe(expected);
  });
});
