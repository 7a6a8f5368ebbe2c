/**
 * The "Memory" section of bench/RESULTS.md, from the runs `npm run bench:memory -- --write` keeps in
 * bench/results/memory-<label>.json (`before`: measured on the code before the change that bounded
 * it; `after`: the code as it is). Kept between its own markers, so `npm run bench` and the drills,
 * which rewrite the rest of the file, leave it alone.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { spliceSection } from '../drills/report.ts';

const RESULTS_MD = 'bench/RESULTS.md';
const SECTION_MD = 'bench/results/memory.md';
const LABELS = ['before', 'after'] as const;

interface Phase {
  what: string;
  baseline_mb: number;
  peak_mb: number;
  added_mb: number;
  seconds: number;
}
interface Run {
  label: string;
  date: string;
  phases: Phase[];
}

const read = (label: string): Run | undefined => {
  const file = `bench/results/memory-${label}.json`;
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Run) : undefined;
};

/** The section, one table row per measured phase of each run. */
export function renderMemorySection(): string {
  const runs = LABELS.flatMap((label) => {
    const run = read(label);
    return run ? [run] : [];
  });
  const lines = [
    '## Memory',
    '',
    "`npm run bench:memory`: the resident memory (RSS) of `wrangler dev`'s workerd processes, sampled every",
    '5 ms, on a fresh stack per phase after a warm-up of the same path; "added" is the peak over the steady',
    'baseline before the work (garbage V8 has not collected yet included: without a memory limit it collects',
    'late). Workers allow 128 MB per isolate, shared by its concurrent requests. `before` is the code before',
    'the image relay and the bulk staging (issue #15); `after` is the code now. A bulk collection is many cron',
    'runs, each its own invocation: "at most … added by one run" is the peak of one run over its own start,',
    'the figure a run must fit in; the whole collection adds up what the runs left for the collector. Before,',
    '50,000 items (the old BULK_MAX_ITEMS bound) could not even be uploaded to the simulator (its 64 MB',
    'request limit): the 30,000-item rows stand for it. Bounds and reasons: `docs/memory.md`.',
    '',
    '| run | what | baseline | peak | added | time |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
    ...runs.flatMap((run) =>
      run.phases.map(
        (p) =>
          `| ${run.label} (${run.date.slice(0, 10)}) | ${p.what} | ${p.baseline_mb} MB | ${p.peak_mb} MB | **${p.added_mb} MB** | ${p.seconds} s |`,
      ),
    ),
    '',
    'Every figure is in `bench/results/memory-before.json` and `bench/results/memory-after.json`.',
    '',
  ];
  return lines.join('\n');
}

/** Writes bench/results/memory.md and the marked region of bench/RESULTS.md. */
export function writeMemorySection(): void {
  const section = renderMemorySection();
  writeFileSync(SECTION_MD, section);
  const document = existsSync(RESULTS_MD) ? readFileSync(RESULTS_MD, 'utf8') : '';
  writeFileSync(RESULTS_MD, spliceSection(document, section, 'memory'));
}

/** `markdown` with the last memory section spliced in, for the benchmark report writer. */
export function withMemorySection(markdown: string): string {
  return existsSync(SECTION_MD)
    ? spliceSection(markdown, readFileSync(SECTION_MD, 'utf8'), 'memory')
    : markdown;
}
