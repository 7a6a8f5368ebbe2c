/**
 * The "Moderation" section of bench/RESULTS.md, from `npm run bench:moderation -- --write`, which keeps
 * it in bench/results/moderation.md; kept between its own markers, so `npm run bench` and the drills,
 * which rewrite the rest of the file, leave it alone.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { CorpusScore, EvasionCase } from '../../test/support/moderation-corpus.ts';
import { spliceSection } from '../drills/report.ts';

const RESULTS_MD = 'bench/RESULTS.md';
const SECTION_MD = 'bench/results/moderation.md';
const RESULTS_JSON = 'bench/results/moderation.json';

const percent = (x: number) => `${(x * 100).toFixed(1)} %`;

/** The catch rate of each evasion of the matrix. */
function byEvasion(score: CorpusScore, cases: EvasionCase[]): [string, string][] {
  const totals = new Map<string, number>();
  for (const c of cases) totals.set(c.evasion, (totals.get(c.evasion) ?? 0) + 1);
  return [...totals].map(([evasion, total]) => {
    const missed = score.missed.filter((c) => c.evasion === evasion).length;
    return [evasion, `${total - missed}/${total}`];
  });
}

/** The "Moderation" section of bench/RESULTS.md. */
export function renderModerationSection(
  score: CorpusScore,
  plain: CorpusScore,
  cases: EvasionCase[],
  micros: { normalised: number; plain: number },
  date: string,
): string {
  const evasions = byEvasion(score, cases);
  return [
    '## Moderation',
    '',
    `\`npm run bench:moderation\` on ${date}: the local layers (business rules, brand safety; built-in rules) on`,
    'the corpora of `test/support/moderation-corpus.ts` (how they are built and what each evasion is:',
    '`docs/moderation.md`). Targets: catch rate ≥ 98 %, false positives ≤ 1 %.',
    '',
    '| measure | plain views only (before) | with the normalised readings |',
    '| --- | --- | --- |',
    `| evasions caught | ${plain.caught}/${plain.evasions} (${percent(plain.catchRate)}) | ${score.caught}/${score.evasions} (**${percent(score.catchRate)}**) |`,
    `| benign phrases flagged | ${plain.falsePositives.length}/${plain.benign} (${percent(plain.falsePositiveRate)}) | ${score.falsePositives.length}/${score.benign} (**${percent(score.falsePositiveRate)}**) |`,
    `| time per text, both layers | ${micros.plain.toFixed(0)} µs | ${micros.normalised.toFixed(0)} µs |`,
    '',
    '| evasion | caught |',
    '| --- | --- |',
    ...evasions.map(([evasion, caught]) => `| ${evasion} | ${caught} |`),
    '',
    ...(score.missed.length
      ? ['Missed:', '', ...score.missed.map((c) => `- ${c.evasion}: ${JSON.stringify(c.text)}`), '']
      : []),
    ...(score.falsePositives.length
      ? [
          'Flagged benign phrases:',
          '',
          ...score.falsePositives.map((f) => `- ${JSON.stringify(f.text)} (${f.flag})`),
          '',
        ]
      : []),
    `Every figure is in \`${RESULTS_JSON}\`.`,
    '',
  ].join('\n');
}

/** `markdown` with the last moderation section spliced in, for the benchmark report writer. */
export function withModerationSection(markdown: string): string {
  return existsSync(SECTION_MD)
    ? spliceSection(markdown, readFileSync(SECTION_MD, 'utf8'), 'moderation')
    : markdown;
}

/** Writes bench/results/moderation.json and .md, and the marked region of bench/RESULTS.md. */
export function writeModerationSection(section: string, figures: unknown): void {
  writeFileSync(RESULTS_JSON, `${JSON.stringify(figures, null, 2)}\n`);
  writeFileSync(SECTION_MD, section);
  const document = existsSync(RESULTS_MD) ? readFileSync(RESULTS_MD, 'utf8') : '';
  writeFileSync(RESULTS_MD, spliceSection(document, section, 'moderation'));
}
