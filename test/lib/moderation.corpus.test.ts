import { describe, expect, it } from 'vitest';
import { checkBrandSafety, checkBusinessRules, createModerationRules } from '../../lib/moderation';
import {
  BENIGN_CORPUS,
  BENIGN_EMBEDDED,
  BORDERLINE,
  EVADED_TERMS,
  EVASIONS,
  evasionCorpus,
  scoreCorpora,
} from '../support/moderation-corpus';

const rules = createModerationRules(undefined);
const flagOf = (text: string) => {
  const flag = checkBusinessRules(text, rules) ?? checkBrandSafety(text, rules);
  return flag ? `${flag.layer}: ${flag.pattern}` : null;
};

describe('the moderation corpora (docs/moderation.md)', () => {
  it('are big enough: ≥ 200 evasions from every term × evasion, ≥ 200 benign phrases, ≥ 50 with a rule word inside', () => {
    const cases = evasionCorpus();
    expect(cases.length).toBeGreaterThanOrEqual(200);
    expect(new Set(cases.map((c) => c.term))).toEqual(new Set(EVADED_TERMS));
    expect(new Set(cases.map((c) => c.evasion))).toEqual(new Set(Object.keys(EVASIONS)));
    expect(BENIGN_CORPUS.length).toBeGreaterThanOrEqual(200);
    expect(new Set(BENIGN_CORPUS).size).toBe(BENIGN_CORPUS.length);
    expect(BENIGN_EMBEDDED.length).toBeGreaterThanOrEqual(50);
  });

  it('every term is caught when written plainly, so a miss below is an evasion, not a missing rule', () => {
    expect(EVADED_TERMS.filter((term) => flagOf(term) === null)).toEqual([]);
  });

  it('catches ≥ 98 % of the evasions and flags ≤ 1 % of the benign phrases (today: all, and none)', () => {
    const score = scoreCorpora(flagOf);
    const report = [
      `caught ${score.caught}/${score.evasions}; missed:`,
      ...score.missed.map((c) => `  ${c.evasion} ${JSON.stringify(c.text)}`),
      `flagged ${score.falsePositives.length}/${score.benign} benign:`,
      ...score.falsePositives.map((f) => `  ${JSON.stringify(f.text)} (${f.flag})`),
    ].join('\n');
    expect(score.catchRate, report).toBeGreaterThanOrEqual(0.98);
    expect(score.falsePositiveRate, report).toBeLessThanOrEqual(0.01);
  });

  it.each(BORDERLINE)('decides the borderline $text: flagged $flagged ($why)', ({ text, flagged }) => {
    expect(flagOf(text) !== null).toBe(flagged);
  });
});

describe('the evasions issue #16 found', () => {
  it.each([
    ['gu4ranteed m0ney', 'business_rules: get_rich_quick'],
    ['hurrу', 'business_rules: urgency'],
    ['h u r r y', 'business_rules: urgency'],
    ['hur\u3164ry', 'business_rules: urgency'],
    ['s3cret', 'business_rules: exclusivity'],
    ['c0unterfeit', 'brand_safety: counterfeit'],
    ['replіca', 'brand_safety: replica'],
  ])('catches %j (%s)', (text, flag) => {
    expect(flagOf(text)).toBe(flag);
  });
});
