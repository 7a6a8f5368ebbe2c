/**
 * `npm run bench:moderation`: the local moderation layers (business rules and brand safety, built-in
 * rules) on the evasion and benign corpora of test/support/moderation-corpus.ts: the catch rate, the
 * false-positive rate, the catch rate per evasion, and how long a check takes. No stack, no network.
 * With `--write` it also keeps the figures in bench/results/moderation.json and the "Moderation"
 * section of bench/RESULTS.md.
 */
import { checkBrandSafety } from '../lib/moderation/brand-safety.ts';
import { checkBusinessRules } from '../lib/moderation/business-rules.ts';
import { createModerationRules, type ModerationRules } from '../lib/moderation/rules.ts';
import { BENIGN_CORPUS, evasionCorpus, scoreCorpora } from '../test/support/moderation-corpus.ts';
import { renderModerationSection, writeModerationSection } from './lib/moderation-report.ts';

const rules = createModerationRules(undefined);
// The same rules on the plain views alone, as before the normalised readings (issue #16): no loose forms.
const plainRules: ModerationRules = {
  ...rules,
  businessRules: rules.businessRules.map((r) => ({ ...r, loose: null })),
  blockedTerms: rules.blockedTerms.map((t) => ({ ...t, loose: null })),
  competitors: rules.competitors.map((t) => ({ ...t, loose: null })),
  claims: rules.claims.map((t) => ({ ...t, loose: null })),
};
const flagWith = (set: ModerationRules) => (text: string) => {
  const flag = checkBusinessRules(text, set) ?? checkBrandSafety(text, set);
  return flag ? `${flag.layer}: ${flag.pattern}` : null;
};

/** Microseconds per text of both layers over both corpora, after a warm-up. */
function microsPerCheck(flagOf: (text: string) => unknown, texts: string[]): number {
  for (const text of texts) flagOf(text);
  const t0 = performance.now();
  for (let round = 0; round < 5; round += 1) for (const text of texts) flagOf(text);
  return ((performance.now() - t0) * 1000) / (5 * texts.length);
}

const cases = evasionCorpus();
const texts = [...cases.map((c) => c.text), ...BENIGN_CORPUS];
const score = scoreCorpora(flagWith(rules));
const plain = scoreCorpora(flagWith(plainRules));
const micros = {
  normalised: microsPerCheck(flagWith(rules), texts),
  plain: microsPerCheck(flagWith(plainRules), texts),
};
const date = new Date().toISOString().slice(0, 10);
const section = renderModerationSection(score, plain, cases, micros, date);
process.stdout.write(section);
if (process.argv.includes('--write')) {
  writeModerationSection(section, {
    ...score,
    plainViewsOnly: { caught: plain.caught, falsePositives: plain.falsePositives.length },
    microsPerCheck: micros,
  });
}
