/**
 * Layer 3: brand safety. Configured blocked terms, competitor names and unsubstantiated claims (see
 * `termMatcher` for how a term matches; each also matches the normalised readings loosely, so `c0unterfeit`
 * and `replіca` with a Cyrillic і are caught, see normalise.ts), then profanity through `obscenity`'s English dataset with its
 * recommended transformers (profanity.ts), which see through leetspeak (`sh1t`), look-alike characters (`ƒuck`),
 * repeated letters (`fuuuck`) and punctuation inside a word (`b!tch`).
 */
import type { LocalFlag } from './business-rules';
import { readingsOnDemand } from './normalise.ts';
import type { ModerationRules } from './rules';
import { foldText } from './text.ts';

const LISTS: readonly (readonly ['blockedTerms' | 'competitors' | 'claims', string])[] = [
  ['blockedTerms', 'blocked term'],
  ['competitors', 'competitor mention'],
  ['claims', 'unsubstantiated claim'],
];

/** The first hit: blocked terms, then competitors, then claims (each in configured order), then profanity. */
export function checkBrandSafety(
  text: string,
  rules: ModerationRules,
  readings = readingsOnDemand(text),
): LocalFlag | null {
  const folded = foldText(text);
  for (const [list, reason] of LISTS) {
    const hit = rules[list].find(
      (t) => t.regex.test(folded) || (t.loose !== null && readings().some((v) => t.loose?.test(v))),
    );
    if (hit) return { layer: 'brand_safety', reason, pattern: hit.term };
  }
  const profane = rules.profanity.find(folded);
  return profane ? { layer: 'brand_safety', reason: 'profanity', pattern: profane } : null;
}
