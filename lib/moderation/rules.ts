/**
 * The local moderation layers' data: business rules (regular expressions over the words view, see
 * text.ts) and brand-safety lists (terms). Built-in defaults apply unless `MODERATION_RULES` gives a
 * list, which then replaces the built-in list of that name (an empty list turns it off). Each rule and
 * term also gets a loose form for the normalised readings (loose.ts, normalise.ts), so evasions such
 * as `hurrу` (Cyrillic у), `gu4ranteed` or `h u r r y` match too.
 */
import { z } from 'zod';
import { ConfigError } from '../env.ts';
import {
  DEFAULT_BLOCKED_TERMS,
  DEFAULT_BUSINESS_RULES,
  DEFAULT_CLAIMS,
  DEFAULT_COMPETITORS,
  DEFAULT_PROFANITY_ALLOWLIST,
  DEFAULT_RULE_FLAGS,
} from './default-rules.ts';
import { looseRegex, looseTermMatcher } from './loose.ts';
import { createProfanityMatcher, type ProfanityMatcher } from './profanity.ts';
import { termMatcher } from './text.ts';

/** No stateful flags (g, y): a shared RegExp with them would carry `lastIndex` between calls. */
const FLAGS = /^(?!.*(.).*\1)(?!.*u.*v)(?!.*v.*u)[imsuv]*$/;
const Term = z.string().trim().min(1).max(100);
const TermList = z.array(Term).max(1000);

const BusinessRuleConfig = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9_]{1,64}$/, 'must be 1-64 lower-case letters, digits or underscores'),
    pattern: z.string().min(1).max(2000),
    flags: z
      .string()
      .regex(FLAGS, 'must be distinct letters among i, m, s, u, v, not both u and v')
      .optional(),
    reason: z.string().trim().min(1).max(200),
  })
  .superRefine((rule, ctx) => {
    const flags = rule.flags ?? DEFAULT_RULE_FLAGS;
    if (!FLAGS.test(flags)) return; // reported on `flags`
    try {
      new RegExp(rule.pattern, flags);
    } catch {
      ctx.addIssue({ code: 'custom', path: ['pattern'], message: 'invalid regular expression' });
    }
  });

/** The `MODERATION_RULES` JSON. Each list given replaces the built-in one. */
export const ModerationRulesConfig = z
  .strictObject({
    business_rules: z.array(BusinessRuleConfig).max(100).optional(),
    blocked_terms: TermList.optional(),
    competitors: TermList.optional(),
    claims: TermList.optional(),
    profanity_allowlist: TermList.optional(),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    for (const [i, rule] of (config.business_rules ?? []).entries()) {
      if (seen.has(rule.name))
        ctx.addIssue({ code: 'custom', path: ['business_rules', i, 'name'], message: 'is not unique' });
      seen.add(rule.name);
    }
  });
export type ModerationRulesConfig = z.input<typeof ModerationRulesConfig>;

/** A business rule ready to run. */
export interface BusinessRule {
  name: string;
  reason: string;
  /** Run on the words view. */
  regex: RegExp;
  /** Run on the normalised readings; null when the rule cannot be loosened (it runs as written only). */
  loose: RegExp | null;
}

/** A configured term (as written, for reporting) and its matchers. */
export interface TermRule {
  term: string;
  /** Run on the folded text. */
  regex: RegExp;
  /** Run on the normalised readings; null for a term with punctuation at an edge (`#1`). */
  loose: RegExp | null;
}

/** The compiled rules the local layers run; build once per env (`createModerationRules`). */
export interface ModerationRules {
  businessRules: BusinessRule[];
  blockedTerms: TermRule[];
  competitors: TermRule[];
  claims: TermRule[];
  profanity: ProfanityMatcher;
}

/**
 * Validates `MODERATION_RULES` (already JSON-parsed; undefined means all defaults) and compiles it.
 * Costs about 10 ms (the profanity matcher), so memoise it per env.
 * @throws ConfigError naming each fault, e.g. `MODERATION_RULES.business_rules.2.pattern: invalid regular expression`.
 */
export function createModerationRules(raw: unknown): ModerationRules {
  const result = ModerationRulesConfig.safeParse(raw ?? {});
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((i) => `${['MODERATION_RULES', ...i.path].join('.')}: ${i.message}`),
    );
  }
  const config = result.data;
  const terms = (list: readonly string[]) =>
    list.map((term) => ({ term, regex: termMatcher(term), loose: looseTermMatcher(term) }));
  return {
    businessRules: (config.business_rules ?? DEFAULT_BUSINESS_RULES).map((rule) => {
      const flags = rule.flags ?? DEFAULT_RULE_FLAGS;
      return {
        name: rule.name,
        reason: rule.reason,
        regex: new RegExp(rule.pattern, flags),
        loose: looseRegex(rule.pattern, flags),
      };
    }),
    blockedTerms: terms(config.blocked_terms ?? DEFAULT_BLOCKED_TERMS),
    competitors: terms(config.competitors ?? DEFAULT_COMPETITORS),
    claims: terms(config.claims ?? DEFAULT_CLAIMS),
    profanity: createProfanityMatcher(config.profanity_allowlist ?? DEFAULT_PROFANITY_ALLOWLIST),
  };
}
