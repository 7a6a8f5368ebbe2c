/**
 * `npm run bench:memory`: what the largest proxied image request and the largest bulk job add to the
 * Worker's memory, measured as the resident memory (RSS) of `wrangler dev`'s workerd processes, sampled
 * every 5 ms from /proc before and during the work. Workers give an isolate 128 MB, shared by its
 * concurrent requests, and `wrangler dev` does not enforce it: this is where a copy too many shows.
 *
 * Each phase gets a fresh stack (RSS rarely shrinks after a peak, so one phase's garbage would hide the
 * next's growth) and a warm-up of the same path, so the baseline already holds the code, the tokenizer
 * and the JIT's work; the figure is the peak over that baseline.
 *
 * - image: one `POST /openai/v1/images/generations` at the largest `n` × size the gateway allows, on
 *   the simulator's realistic profile (full-size PNGs of grain, ~3.4 bytes of base64 a pixel), its
 *   clock sped up so the images take a fraction of a second.
 * - bulk: `POST /v1/batches` with BULK_MAX_ITEMS' upper bound of items (submission), then the cron
 *   polls (`/cdn-cgi/handler/scheduled`) until the job is final (collection: the output file, moderation, results).
 *
 * Options: `--only=image|bulk`, `--n=`, `--size=`, `--items=` (defaults: the limits in the code),
 * `--intent-chars=` (bulk intents padded to this length), `--repeat=` (image requests one after another in one measurement: what is left behind adds up),
 * `--polls=` (most cron runs; a partial collection still shows a run's peak), `--label=before|after`,
 * `--write` (bench/results/memory-<label>.json, the section of bench/RESULTS.md).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { IMAGE_PIXELS_PER_REQUEST, IMAGES_PER_REQUEST } from '../lib/proxy/image-limits.ts';
import { BULK_ITEMS_LIMIT } from '../lib/settings.ts';
import { writeMemorySection } from './lib/memory-report.ts';
import { mb, rssBytes, sampleRss, steadyRss, totalRss } from './lib/rss.ts';
import { type Stack, startStack } from './lib/stack.ts';

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    n: { type: 'string' },
    size: { type: 'string' },
    items: { type: 'string' },
    polls: { type: 'string', default: '100' },
    repeat: { type: 'string', default: '1' },
    'intent-chars': { type: 'string' },
    label: { type: 'string', default: 'after' },
    write: { type: 'boolean' },
  },
});
const TIME_SCALE = 0.001;
const CRON = '*/10 * * * *';
const log = (line: string) => process.stderr.write(`[memory] ${line}\n`);

/** The largest request the cap allows: as many 1024² images as fit, or n at the largest size. */
function largestImage(): { n: number; size: string } {
  const n = Math.min(IMAGES_PER_REQUEST, Math.floor(IMAGE_PIXELS_PER_REQUEST / (3840 * 2160)));
  const atMost = Math.min(IMAGES_PER_REQUEST, Math.floor(IMAGE_PIXELS_PER_REQUEST / (1024 * 1024)));
  // Whichever asks for more pixels in all.
  return n * 3840 * 2160 >= atMost * 1024 * 1024
    ? { n, size: '3840x2160' }
    : { n: atMost, size: '1024x1024' };
}

const workerd = (stack: Stack) => stack.processes().flatMap((p) => (p.name === 'workerd' ? [p.pid] : []));

async function post(stack: Stack, path: string, key: string, body: unknown): Promise<Response> {
  return fetch(`${stack.gatewayUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(600_000),
  });
}

export interface PhaseResult {
  what: string;
  baseline_mb: number;
  peak_mb: number;
  added_mb: number;
  seconds: number;
  [figure: string]: unknown;
}

/** Runs `work` while sampling the workerd processes; the peak over the steady baseline before it. */
async function measured<T>(stack: Stack, work: () => Promise<T>) {
  const pids = workerd(stack);
  if (!pids.length) throw new Error('no workerd process found under wrangler dev');
  const baseline = await steadyRss(pids);
  const before = Object.fromEntries(pids.map((pid) => [pid, rssBytes(pid)]));
  const sampler = sampleRss(pids);
  const started = performance.now();
  const result = await work();
  const seconds = Math.round((performance.now() - started) / 100) / 10;
  const { peakBytes, peakByPid } = sampler.stop();
  return {
    result,
    figures: {
      baseline_mb: mb(baseline),
      peak_mb: mb(peakBytes),
      added_mb: mb(peakBytes - baseline),
      // workerd runs the gateway and, under wrangler dev, a proxy in front of it: which one grew.
      added_by_process_mb: pids.map((pid) => mb((peakByPid[pid] ?? 0) - (before[pid] ?? 0))),
      seconds,
    },
  };
}

async function imagePhase(): Promise<PhaseResult> {
  const largest = largestImage();
  const n = Number(values.n ?? largest.n);
  const size = values.size ?? largest.size;
  const repeat = Number(values.repeat);
  const stack = await startStack({ env: { OPENAI_IMAGE_TIMEOUT_SECONDS: '300' } });
  try {
    await stack.simConfigure(stack.simKeys.primary, { profile: 'realistic', time_scale: TIME_SCALE });
    const key = await stack.createKey({ rpm: 1_000_000, daily_budget_usd: 10_000 });
    const ask = (body: object) =>
      post(stack, '/openai/v1/images/generations', key, { model: 'gpt-image-2', quality: 'low', ...body });
    // Warm-up: the tokenizer, the path's code and one realistic image.
    const warm = await ask({ prompt: 'warm-up boot', n: 1, size: '1024x1024' });
    if (warm.status !== 200) throw new Error(`warm-up answered ${warm.status}: ${await warm.text()}`);
    await warm.arrayBuffer();
    log(`image: n=${n} size=${size}`);
    const { result, figures } = await measured(stack, async () => {
      let last = { status: 0, bytes: new Uint8Array() };
      for (let i = 0; i < repeat; i++) {
        const res = await ask({ prompt: `a leather hiking boot on a mossy rock ${i}`, n, size });
        last = { status: res.status, bytes: new Uint8Array(await res.arrayBuffer()) };
      }
      return last;
    });
    const text = new TextDecoder().decode(result.bytes);
    if (result.status !== 200)
      throw new Error(`image request answered ${result.status}: ${text.slice(0, 300)}`);
    const body = JSON.parse(text) as { data: { b64_json: string }[]; usage?: { output_tokens?: number } };
    if (body.data.length !== n || !body.usage?.output_tokens) throw new Error('incomplete image answer');
    const phase: PhaseResult = {
      what: `image: n=${n} × ${size}${repeat > 1 ? `, ${repeat} requests in a row` : ''}, quality low, realistic profile`,
      n,
      size,
      pixels:
        n *
        size
          .split('x')
          .map(Number)
          .reduce((a, b) => a * b, 1),
      response_mb: mb(result.bytes.length),
      ...figures,
    };
    log(`image: ${JSON.stringify(phase)}`);
    return phase;
  } finally {
    await stack.stop();
  }
}

/**
 * A bulk item (an intent and a little context), distinct per index; `--intent-chars` pads the intent
 * (at most 2,000) to see how the request body's size weighs.
 */
const bulkItem = (i: number) => {
  const intent = `Waterproof trail shoes, model ${i}, for wet autumn hikes in the hills`;
  const chars = Number(values['intent-chars'] ?? 0);
  return {
    intent: chars > intent.length ? `${intent} ${'and dry socks '.repeat(chars)}`.slice(0, chars) : intent,
    context: { locale: 'en-GB', price_band: 'mid' },
  };
};

async function bulkPhase(): Promise<PhaseResult[]> {
  const items = Number(values.items ?? BULK_ITEMS_LIMIT);
  const maxPolls = Number(values.polls);
  const long = values['intent-chars'] ? ` of ${values['intent-chars']}-character intents` : '';
  const stack = await startStack({
    env: {
      BULK_MAX_ITEMS: String(items),
      MAX_BODY_BYTES: String(100 * 1_048_576),
      BULK_COLLECT_PER_RUN: '1000',
      OPENAI_DAILY_BUDGET_USD: '1000000',
    },
  });
  try {
    await stack.simConfigure(stack.simKeys.primary, { batch: { duration_ms: 0 } });
    const key = await stack.createKey({ rpm: 1_000_000, daily_budget_usd: 1_000_000 });
    const submit = async (count: number) => {
      const res = await post(stack, '/v1/batches', key, {
        task: 'opportunities',
        items: Array.from({ length: count }, (_, i) => bulkItem(i)),
      });
      const text = await res.text();
      const id = res.status === 202 ? (JSON.parse(text) as { id?: string }).id : undefined;
      if (!id) throw new Error(`POST /v1/batches answered ${res.status}: ${text.slice(0, 500)}`);
      return id;
    };
    const pollOnce = async () => {
      const res = await fetch(
        `${stack.gatewayUrl}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent(CRON)}`,
        {
          signal: AbortSignal.timeout(600_000),
        },
      );
      await res.text();
    };
    const status = async (id: string) => {
      const res = await fetch(`${stack.gatewayUrl}/v1/batches/${id}?limit=1`, {
        headers: { authorization: `Bearer ${key}` },
      });
      return (await res.json()) as { status: string; counts: Record<string, number> };
    };
    /** Polls until the job is final (or `limit` runs); what each run added over its own start. */
    const collect = async (id: string, limit: number) => {
      const pids = workerd(stack);
      const perRun: number[] = [];
      let job = await status(id);
      while (!['completed', 'failed', 'expired', 'cancelled'].includes(job.status) && perRun.length < limit) {
        const start = totalRss(pids);
        const sampler = sampleRss(pids);
        await pollOnce();
        perRun.push(mb(sampler.stop().peakBytes - start));
        job = await status(id);
      }
      return { polls: perRun.length, perRun, job };
    };
    // Warm-up: a small job through submission and collection.
    await collect(await submit(3), 10);
    log(`bulk: submitting ${items} items`);
    const submitted = await measured(stack, () => submit(items));
    const bodyBytes = JSON.stringify({
      task: 'opportunities',
      items: Array.from({ length: items }, (_, i) => bulkItem(i)),
    }).length;
    const submission: PhaseResult = {
      what: `bulk submission: ${items} items${long} (POST /v1/batches, ${mb(bodyBytes)} MB body)`,
      items,
      body_mb: mb(bodyBytes),
      ...submitted.figures,
    };
    log(`bulk: ${JSON.stringify(submission)}`);
    const collected = await measured(stack, () => collect(submitted.result, maxPolls));
    const { job, polls, perRun } = collected.result;
    const collection: PhaseResult = {
      what: `bulk collection: ${items} items${long}, ${polls} cron runs${job.status === 'completed' ? '' : ` (stopped at ${job.status})`}, at most ${Math.max(...perRun)} MB added by one run`,
      items,
      polls,
      added_per_run_mb: perRun,
      final_status: job.status,
      counts: job.counts,
      ...collected.figures,
    };
    log(`bulk: ${JSON.stringify(collection)}`);
    return [submission, collection];
  } finally {
    await stack.stop();
  }
}

const only = values.only?.split(',') ?? ['image', 'bulk'];
const phases: PhaseResult[] = [];
if (only.includes('image')) phases.push(await imagePhase());
if (only.includes('bulk')) phases.push(...(await bulkPhase()));
const run = { label: values.label, date: new Date().toISOString(), time_scale: TIME_SCALE, phases };
console.log(JSON.stringify(run, null, 2));
if (values.write) {
  mkdirSync('bench/results', { recursive: true });
  const file = `bench/results/memory-${values.label}.json`;
  // A run of some phases replaces those phases of the label's file and keeps the others.
  const kept = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as typeof run).phases.filter(
        (old) => !phases.some((p) => p.what === old.what),
      )
    : [];
  writeFileSync(file, `${JSON.stringify({ ...run, phases: [...kept, ...phases] }, null, 2)}\n`);
  writeMemorySection();
  log('wrote bench/results/memory-*.json and the memory section of bench/RESULTS.md');
}
process.exit(0);
