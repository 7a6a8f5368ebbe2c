import type { Verdict } from '../../lib/moderation';

/** Clean input's verdict, to match: approved, with every layer passed (categories vary). */
export const APPROVED_BY_ALL_LAYERS = {
  approved: true,
  layer: null,
  reason: null,
  pattern: null,
  checked: { openai: 'passed', business_rules: 'passed', brand_safety: 'passed' },
} satisfies Partial<Verdict>;

/** The whole verdict on urgency wording: rejected by the business rules before OpenAI is asked. */
export const URGENCY_REJECTED: Verdict = {
  approved: false,
  layer: 'business_rules',
  reason: 'urgency manipulation',
  categories: {},
  pattern: 'urgency',
  checked: { openai: 'skipped', business_rules: 'flagged', brand_safety: 'passed' },
};
