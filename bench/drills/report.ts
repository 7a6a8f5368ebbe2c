/**
 * Writes the drills' results: `bench/results/drills.json` (every figure), `bench/results/drills.md` (the
 * "Drills" section), and that section into `bench/RESULTS.md` between the drills markers, replacing only
 * that region (the benchmark sections around it belong to `npm run bench`).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { DrillResult } from './harness.ts';

export const RESULTS_DIR = 'bench/results';
export const RESULTS_MD = 'bench/RESULTS.md';
export const START_MARKER = '<!-- drills:start -->';
export const END_MARKER = '<!-- drills:end -->';

/** The run as drills.json stores it. */
export interface DrillRun {
  started_at: string;
  duration_s: number;
  scale: number;
  machine: { cpus: number; node: string; load_average_at_start: number };
  settings: Record<string, string>;
  drills: DrillResult[];
  /** Read with the admin key after the last drill: the gateway's whole ledger. */
  ledger_at_end: { spent_usd: number; reserved_usd: number } | null;
}

/** The Markdown section: one row per drill, then each drill's losses and findings. */
export function renderSection(run: DrillRun): string {
  const lines = [
    '## Drills',
    '',
    `\`npm run drill\` on ${run.started_at.slice(0, 10)}: ${run.machine.cpus} CPUs (load average ${run.machine.load_average_at_start} at the start), Node ${run.machine.node}, ` +
      `${run.duration_s} s${run.scale === 1 ? '' : ` (scale ${run.scale}: a validation run, not the real load)`}. ` +
      'Local stack: `wrangler dev`, the Upstash REST bridge over a real `redis-server`, the OpenAI simulator ' +
      `with a backup provider on a second simulator key. Gateway settings for the drills: ${formatSettings(run.settings)}.`,
    '',
    '| drill | verdict | result | lost |',
    '| --- | --- | --- | --- |',
    ...run.drills.map(
      (d) =>
        `| ${d.title}${d.rerun ? ` (rerun alone on ${d.rerun.started_at.slice(0, 10)}, load average ${d.rerun.load_average_at_start})` : ''} ` +
        `| ${d.ok ? 'pass' : '**FAIL**'} | ${cell(d.verdict)} | ${cell(formatLost(d.lost))} |`,
    ),
    '',
  ];
  const findings = run.drills.flatMap((d) => d.findings.map((f) => `- **${d.name}**: ${cell(f)}`));
  if (findings.length) lines.push('Findings:', '', ...findings, '');
  if (run.ledger_at_end) {
    lines.push(
      `Ledger after the last drill: ${run.ledger_at_end.spent_usd} USD spent, ` +
        `${run.ledger_at_end.reserved_usd} USD reserved.`,
      '',
    );
  }
  lines.push('Every figure is in `bench/results/drills.json`.', '');
  return lines.join('\n');
}

/** Writes drills.json, drills.md and the marked region of RESULTS.md. */
export function writeResults(run: DrillRun): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(`${RESULTS_DIR}/drills.json`, `${JSON.stringify(run, null, 2)}\n`);
  const section = renderSection(run);
  writeFileSync(`${RESULTS_DIR}/drills.md`, section);
  writeFileSync(
    RESULTS_MD,
    spliceSection(existsSync(RESULTS_MD) ? readFileSync(RESULTS_MD, 'utf8') : '', section),
  );
}

/**
 * The committed run with `run`'s drills in place of its own of the same name (the others kept, so are
 * the header and the ledger), each marked as rerun: a drill changed alone need not rerun them all.
 */
export function mergeIntoResults(run: DrillRun): DrillRun {
  const committed = JSON.parse(readFileSync(`${RESULTS_DIR}/drills.json`, 'utf8')) as DrillRun;
  const rerun = { started_at: run.started_at, load_average_at_start: run.machine.load_average_at_start };
  const fresh = new Map(run.drills.map((d) => [d.name, { ...d, rerun }]));
  const kept = committed.drills.map((d) => fresh.get(d.name) ?? d);
  const added = [...fresh.values()].filter((d) => !committed.drills.some((c) => c.name === d.name));
  return { ...committed, drills: [...kept, ...added] };
}

/**
 * `markdown` (a whole RESULTS.md) with the last drills section spliced in from drills.md, if there is
 * one: for the benchmark report writer, so `npm run bench` keeps the drills when it rewrites the file.
 * @example writeFileSync('bench/RESULTS.md', withDrillsSection(renderReport(results)));
 */
export function withDrillsSection(markdown: string): string {
  const drills = `${RESULTS_DIR}/drills.md`;
  return existsSync(drills) ? spliceSection(markdown, readFileSync(drills, 'utf8')) : markdown;
}

/**
 * `document` with the region between `<!-- name:start -->` and `<!-- name:end -->` (the drills' by
 * default) replaced by `section`; appended, with its markers, when absent.
 */
export function spliceSection(document: string, section: string, name = 'drills'): string {
  const [open, close] = [`<!-- ${name}:start -->`, `<!-- ${name}:end -->`];
  const region = `${open}\n${section.trimEnd()}\n${close}`;
  const start = document.indexOf(open);
  const end = document.indexOf(close);
  if (start >= 0 && end > start) {
    return document.slice(0, start) + region + document.slice(end + close.length);
  }
  const base = document.trimEnd();
  return `${base ? `${base}\n\n` : '# Benchmark results\n\n'}${region}\n`;
}

/** "nothing" when every count is 0, else the non-zero ones. */
export function formatLost(lost: Record<string, number>): string {
  const nonZero = Object.entries(lost).filter(([, n]) => n !== 0);
  return nonZero.length
    ? nonZero.map(([what, n]) => `${what.replaceAll('_', ' ')}: ${n}`).join(', ')
    : 'nothing';
}

const formatSettings = (settings: Record<string, string>) =>
  Object.entries(settings)
    .map(([k, v]) => `\`${k}=${v}\``)
    .join(', ');

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');
