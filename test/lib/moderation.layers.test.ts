import { describe, expect, it } from 'vitest';
import { checkBrandSafety, checkBusinessRules, createModerationRules } from '../../lib/moderation';

const rules = createModerationRules(undefined);

describe('business rules (layer 2)', () => {
  it.each([
    ['Get rich quick with these boots', 'get_rich_quick'],
    ['get-rich-quick boots', 'get_rich_quick'],
    ['Guaranteed money back? Guaranteed MONEY.', 'get_rich_quick'],
    ['No risk: try them', 'get_rich_quick'],
    ['A no-risk trial', 'get_rich_quick'],
    ['Risk-free returns', 'get_rich_quick'],
    ['Limited time offer', 'urgency'],
    ['limited-time deal', 'urgency'],
    ['Act now!', 'urgency'],
    ['act-now', 'urgency'],
    ['ACT    NOW', 'urgency'],
    ['a\u200bct n\u00adow', 'urgency'],
    ['Hurry, they go fast', 'urgency'],
    ['The secret to dry feet', 'exclusivity'],
    ['Five secrets of hikers', 'exclusivity'],
    ['Hidden deals inside', 'exclusivity'],
    ['An insider tip', 'exclusivity'],
  ])('flags %j under %s', (text, name) => {
    const flag = checkBusinessRules(text, rules);
    expect(flag).toMatchObject({ layer: 'business_rules', pattern: name });
    expect(flag?.reason.length).toBeGreaterThan(0);
  });

  it.each([
    'A secretary desk in oak',
    'Actinium-free, lab tested',
    'Risky? Not these boots.',
    'Low risk of blisters',
    'Money-back guarantee on every pair',
    'Get rich colours, quick-drying fabric',
    'Limited edition, timeless design',
    'Hurricane-proof shell',
    'An action-packed weekend',
    'Unhidden seams, inside pocket',
    'Secretive? No: fully transparent pricing',
  ])('passes the near miss %j', (text) => {
    expect(checkBusinessRules(text, rules)).toBeNull();
  });

  it('never relaxes for an urgent tone: benign urgency passes, banned urgency does not', () => {
    expect(checkBusinessRules('Ends Sunday: grab yours today while stocks last', rules)).toBeNull();
    expect(checkBusinessRules('Ends Sunday: hurry and grab yours today', rules)?.pattern).toBe('urgency');
  });

  it('reports the first rule in configured order', () => {
    expect(checkBusinessRules('Insider secret: act now, no risk', rules)?.pattern).toBe('get_rich_quick');
  });
});

describe('brand safety (layer 3)', () => {
  const custom = createModerationRules({ competitors: ['Acme', 'Globex Corp'], blocked_terms: ['cheap'] });

  it.each([
    ['Genuine leather, never counterfeit', 'blocked term', 'counterfeit'],
    ['Not a knockoff', 'blocked term', 'knock-off'],
    ['Replica watches', 'blocked term', 'replica'],
    ['The #1 hiking boot', 'unsubstantiated claim', '#1'],
    ['Number one in comfort', 'unsubstantiated claim', 'number one'],
    ['The best in the world', 'unsubstantiated claim', 'best in the world'],
    ['The worlds-best socks', 'unsubstantiated claim', "world's best"],
    ['Clinically proven insoles', 'unsubstantiated claim', 'clinically proven'],
    ['Cures sore feet', 'unsubstantiated claim', 'cures'],
    ['The cure for cold toes', 'unsubstantiated claim', 'cure'],
  ])('flags %j as %s (%s)', (text, reason, pattern) => {
    expect(checkBrandSafety(text, rules)).toEqual({ layer: 'brand_safety', reason, pattern });
  });

  it('flags configured competitors and blocked terms, reporting the term as configured', () => {
    expect(checkBrandSafety('Lighter than ACME boots', custom)).toEqual({
      layer: 'brand_safety',
      reason: 'competitor mention',
      pattern: 'Acme',
    });
    expect(checkBrandSafety('Better than globex  corp', custom)?.pattern).toBe('Globex Corp');
    expect(checkBrandSafety('Cheap thrills', custom)?.reason).toBe('blocked term');
    expect(checkBrandSafety('Lighter than Acme boots', rules)).toBeNull();
  });

  it.each([
    'Fuuuuck, these are comfy',
    'sh1t-hot boots',
    'What a b!tch of a hill',
    '$h!t happens, dry feet don’t',
    'ƒuck wet socks',
    'f\u200buck wet socks',
    'fück wet socks',
  ])('catches obfuscated profanity in %j', (text) => {
    const flag = checkBrandSafety(text, rules);
    expect(flag).toMatchObject({ layer: 'brand_safety', reason: 'profanity' });
    expect(['fuck', 'shit', 'bitch']).toContain(flag?.pattern);
  });

  it.each([
    'Scunthorpe stockists',
    'A classic assassin-grey colourway',
    'Smoked cumin and shiitake crisps',
    'Cockpit-inspired watch',
    'Secure checkout, cured ham hamper',
    'Acmeville trail boots',
    'The #10 pack',
  ])('passes the clean copy %j', (text) => {
    expect(checkBrandSafety(text, custom)).toBeNull();
  });

  it('profanity allowlist is configurable: an empty list reports cumin', () => {
    const strict = createModerationRules({ profanity_allowlist: [] });
    expect(checkBrandSafety('Smoked cumin crisps', rules)).toBeNull();
    expect(checkBrandSafety('Smoked cumin crisps', strict)).toMatchObject({
      reason: 'profanity',
      pattern: 'cum',
    });
  });
});
