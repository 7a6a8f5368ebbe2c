/**
 * `npm run bench:moderation`: the local moderation layers (business rules and brand safety, built-in
 * rules) on the evasion and benign corpora of test/support/moderation-corpus.ts: the catch rate, the
 * false-positive rate, the catch rate per evasion, and how long a check takes. No stack, no network.
 * With `--write` it also keeps the figures in bench/results/moderation.json and the "Moderation"
 * section of bench/RESULTS.md.
 */
import { checkBrandSafety } from '../lib/moderation/brand-safety.ts';
import { checkBusinessRules } from '../lib/moderation/business-rules.ts';
import { createModerationRules } from '../lib/moderation/rules.ts';
import { BENIGN_CORPUS, evasionCorpus, scoreCorpora } from '../test/support/moderation-corpus.ts';
import { renderModerationSection, writeModerationSection } from './lib/moderation-report.ts';

const rules = createModerationRules(undefined);
const flagOf = (text: string) => {
  const flag = checkBusinessRules(text, rules) ?? checkBrandSafety(text, rules);
  return flag ? `${flag.layer}: ${flag.pattern}` : null;
};

/** Microseconds per text of both layers over both corpora, after a warm-up. */
function microsPerCheck(texts: string[]): number {
  for (const text of texts) flagOf(text);
  const t0 = performance.now();
  for (let round = 0; round < 5; round += 1) for (const text of texts) flagOf(text);
  return ((performance.now() - t0) * 1000) / (5 * texts.length);
}

const cases = evasionCorpus();
const score = scoreCorpora(flagOf);
const micros = microsPerCheck([...cases.map((c) => c.text), ...BENIGN_CORPUS]);
const section = renderModerationSection(score, cases, micros, new Date().toISOString().slice(0, 10));
process.stdout.write(section);
if (process.argv.includes('--write')) writeModerationSection(section, { ...score, microsPerCheck: micros });
