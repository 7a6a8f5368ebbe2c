/**
 * Layer 2: business rules against manipulative commerce copy (get-rich-quick, urgency, exclusivity).
 *
 * Tone never relaxes a rule. A creative with an `urgent` tone must convey urgency with words no rule
 * bans ("ends Sunday", "while stocks last", "today"); the creative prompt names the banned phrases so
 * the model avoids them, and this layer checks the result the same way whatever the tone.
 */
import { readingsOnDemand } from './normalise.ts';
import type { ModerationRules } from './rules';
import { wordsOf } from './text.ts';

/** A local layer's finding: what flagged the text, and why. */
export interface LocalFlag {
  layer: 'business_rules' | 'brand_safety';
  reason: string;
  /** The rule's name (business rules) or the configured term (brand safety). */
  pattern: string;
}

/**
 * The first business rule, in configured order, that matches `text`'s words view as written or its
 * normalised readings loosely (normalise.ts, loose.ts); null when none does. `readings` lets the
 * brand-safety check share them.
 */
export function checkBusinessRules(
  text: string,
  rules: Pick<ModerationRules, 'businessRules'>,
  readings = readingsOnDemand(text),
): LocalFlag | null {
  const words = wordsOf(text);
  const rule = rules.businessRules.find(
    (r) => r.regex.test(words) || (r.loose !== null && readings().some((v) => r.loose?.test(v))),
  );
  return rule ? { layer: 'business_rules', reason: rule.reason, pattern: rule.name } : null;
}
