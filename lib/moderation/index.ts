/** The three-layer moderation chain and its configurable rules; see chain.ts for the order. */
export { checkBrandSafety } from './brand-safety';
export { checkBusinessRules, type LocalFlag } from './business-rules';
export {
  type ContentToModerate,
  type ModerationDeps,
  type ModerationLayer,
  type ModerationResult,
  moderateContent,
  type Verdict,
} from './chain';
export {
  BUSINESS_RULE_NAMES,
  type BusinessRuleName,
  type BusinessRuleSpec,
  DEFAULT_BLOCKED_TERMS,
  DEFAULT_BUSINESS_RULES,
  DEFAULT_CLAIMS,
  DEFAULT_COMPETITORS,
  DEFAULT_PROFANITY_ALLOWLIST,
} from './default-rules';
export { normalisedReadings, readingsOnDemand } from './normalise';
export { createProfanityMatcher, type ProfanityMatcher } from './profanity';
export {
  type BusinessRule,
  createModerationRules,
  type ModerationRules,
  ModerationRulesConfig,
  type TermRule,
} from './rules';
