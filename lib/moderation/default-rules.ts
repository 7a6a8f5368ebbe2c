/**
 * The built-in lists of the local moderation layers (lib/moderation/rules.ts compiles them): the
 * playbook's business rules and the brand-safety terms. `MODERATION_RULES` may replace any of them.
 */
import { wholeWords } from './text.ts';

/** The built-in business rules' names, e.g. for a creative prompt that lists what is banned. */
export const BUSINESS_RULE_NAMES = ['get_rich_quick', 'urgency', 'exclusivity'] as const;
export type BusinessRuleName = (typeof BUSINESS_RULE_NAMES)[number];

/** Flags a business rule gets when it names none: case-insensitive, Unicode-aware. */
export const DEFAULT_RULE_FLAGS = 'iu';

/** One business rule as configured: a regular expression over the words view. */
export interface BusinessRuleSpec {
  name: string;
  /** Regular expression source; the text it sees has single spaces between words, no punctuation. */
  pattern: string;
  /** @default 'iu' */
  flags?: string;
  reason: string;
}

/** Product features that are hidden by design: `hidden` before one of them is not exclusivity. */
const HIDDEN_FEATURES = [
  'pockets?',
  'zips?',
  'zippers?',
  'compartments?',
  'storage',
  'hinges?',
  'drawers?',
  'hoods?',
  'seams?',
  'stitching',
  'fasteners?',
  'closures?',
  'buttons?',
  'magnets?',
];

/** The playbook's three manipulation patterns (get-rich-quick, urgency, exclusivity). */
export const DEFAULT_BUSINESS_RULES: readonly (BusinessRuleSpec & { name: BusinessRuleName })[] = [
  {
    name: 'get_rich_quick',
    pattern: wholeWords(
      'get rich quick',
      'guaranteed (?:money|income|profits?|returns?)',
      'no risk',
      'risk free',
    ),
    reason: 'get-rich-quick promise',
  },
  {
    name: 'urgency',
    pattern: wholeWords('limited time', 'act now', 'hurry'),
    reason: 'urgency manipulation',
  },
  {
    name: 'exclusivity',
    // Two everyday phrases pass (docs/moderation.md, "Borderline phrases"): a Secret Santa is a gift
    // exchange, and a hidden pocket, zip or hinge is a product feature, not a hidden deal.
    pattern: wholeWords('secrets?(?! santas?)', `hidden(?! (?:${HIDDEN_FEATURES.join('|')}))`, 'insiders?'),
    reason: 'exclusivity manipulation',
  },
];

/** Terms no copy may use. */
export const DEFAULT_BLOCKED_TERMS: readonly string[] = ['counterfeit', 'knock-off', 'replica'];
/** Competitor names depend on the deployment; none are built in. */
export const DEFAULT_COMPETITORS: readonly string[] = [];
/** Superlatives and health or efficacy claims the advertiser cannot substantiate. */
export const DEFAULT_CLAIMS: readonly string[] = [
  '#1',
  'number one',
  'best in the world',
  "world's best",
  'clinically proven',
  'scientifically proven',
  'doctor recommended',
  'cure',
  'cures',
];
/** Everyday commerce words the profanity dataset would otherwise flag (`cumin` contains `cum`). */
export const DEFAULT_PROFANITY_ALLOWLIST: readonly string[] = [
  'cumin',
  'shiitake',
  'cockpit',
  'blue tit',
  'great tit',
  'dickinson',
];
