import { describe, expect, it } from 'vitest';
import { checkBusinessRules, createModerationRules } from '../../lib/moderation';
import { looseRegex, looseTermMatcher } from '../../lib/moderation/loose';
import { normalisedReadings } from '../../lib/moderation/normalise';

describe('normalisedReadings', () => {
  it.each([
    ['hurrу nоw', ['hurry now']], // Cyrillic у and о (TR39)
    ['ΗΙDDΕΝ', ['HlDDEN']], // Greek capitals; TR39 writes Ι as l, which the loose rules read as i too
    ['гeplіcа', ['replica']], // Cyrillic г (TR39), і, а
    ['gu4ranteed m0ney, 24/7 support, #1', ['guaranteed money 24 7 support 1']],
    ['h u r r y', ['hurry']],
    ['h.u.r.r.y n.o.w', ['hurry now']],
    ['a c t   n o w', ['act now']],
    ['hur\u3164ry no\uffa0w', ['hurry now']],
    ['$ecret (be$t) deals!', ['ecret be t deals', 'secret best deals']],
    ['h!u!r!r!y', ['hurry', 'hiuiririy']],
  ])('reads %j as %j', (text, readings) => {
    expect(normalisedReadings(text)).toEqual(readings);
  });

  it.each(['the hurricane lamp', 'secretary desk', 'contact now for a quote', 'a cure'])(
    'leaves %j as written: a lone letter is not joined',
    (text) => {
      expect(normalisedReadings(text)).toEqual([text]);
    },
  );
});

describe('loose rules', () => {
  it('lets letters repeat and spaces go, keeping escapes, classes, group names and quantifiers', () => {
    expect(looseRegex('\\bact now\\b', 'iu')?.source).toBe('\\ba+c+t+ ?n+o+w+\\b');
    expect(looseRegex('hurry|secrets?', 'iu')?.source).toBe('h+u+r+y+|s+e+c+r+e+t+s*');
    expect(looseRegex('(?<name>bo{2}ts) [a-z]\\p{L}\\u00e9', 'u')?.source).toBe(
      '(?<name>b+o{2}t+s+) ?[a-z]\\p{L}\\u00e9',
    );
    expect(looseRegex('limit', 'u')?.source).toBe('[il]+[il]+m+[il]+t+');
  });

  it('matches terms joined, spaced or stretched, whole words only; edge punctuation only as written', () => {
    const knockOff = looseTermMatcher('knock-off');
    expect(['knockoff', 'knock off', 'knnock offf'].every((t) => knockOff?.test(t))).toBe(true);
    expect(knockOff?.test('knockoffs')).toBe(false);
    expect(looseTermMatcher('cure')?.test('secure')).toBe(false);
    expect(looseTermMatcher('#1')).toBeNull();
  });

  it('gives a configured business rule a loose form too', () => {
    const rules = createModerationRules({
      business_rules: [{ name: 'free_shipping', pattern: '\\bfree shipping\\b', reason: 'shipping promise' }],
    });
    expect(checkBusinessRules('fr3e sh1pp1ng', rules)?.pattern).toBe('free_shipping');
    expect(checkBusinessRules('f r e e   s h i p p i n g', rules)?.pattern).toBe('free_shipping');
  });
});
