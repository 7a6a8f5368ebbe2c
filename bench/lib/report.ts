import type { BatchingResult } from '../batching.ts';
import type { BundleResult } from '../bundle.ts';
import type { CostReplayResult } from '../cost-replay.ts';
import type { CpuResult } from '../cpu.ts';
import type { OverheadResult } from '../overhead.ts';
import type { PromptCacheResult } from '../prompt-cache.ts';
import type { RoundTripResult } from '../round-trips.ts';
import { addedLatency, peerChecks } from './compare.ts';
import { cpuSection, cpuTargetRows } from './cpu-report.ts';
import type { Machine } from './machine.ts';

/** Everything one `npm run bench` measured; a phase that failed has an entry in `errors` instead. */
export interface BenchResults {
  date: string;
  command: string;
  machine: Machine;
  totalSeconds: number;
  /** 1-minute load average when the run ended. */
  loadAverageAtEnd: number;
  phaseSeconds: Record<string, number>;
  bundle?: BundleResult;
  roundTrips?: RoundTripResult[];
  overhead?: OverheadResult;
  cpu?: CpuResult;
  replay?: CostReplayResult;
  batching?: BatchingResult;
  promptCache?: PromptCacheResult;
  errors: { phase: string; message: string }[];
}

const ms = (n: number) => `${n.toFixed(1)} ms`;
const usd = (n: number) => `$${n.toFixed(n < 0.01 ? 6 : 4)}`;
const pct = (n: number) => `${(n * 100).toFixed(1)} %`;
const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
const mark = (met: boolean) => (met ? 'met' : '**missed**');
const table = (head: string[], rows: (string | number)[][]) =>
  [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => ' --- |').join('')}`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');

/** The Markdown report (bench/RESULTS.md). */
export function renderReport(r: BenchResults): string {
  const m = r.machine;
  return [
    '# Benchmark results',
    '',
    `Produced by \`${r.command}\` on ${r.date} in ${Math.round(r.totalSeconds)} s. Absolute times depend on the`,
    'machine and drift between runs; the ratios and differences below are measured in the same run, on the',
    'same machine, with every process (load generator, gateway, Redis, bridge, simulator, Portkey) sharing it.',
    '',
    table(
      ['CPU', 'cores', 'memory', 'Node', 'OS', 'load average at start'],
      [[m.cpu, m.cores, `${m.memoryGiB} GiB`, m.node, m.os, m.loadAverageAtStart]],
    ),
    '',
    ...(r.errors.length
      ? ['## Phases that failed', '', ...r.errors.map((e) => `- ${e.phase}: ${e.message}`), '']
      : []),
    ...targets(r),
    ...(r.cpu ? cpuSection(r.cpu) : []),
    ...(r.overhead ? overheadSection(r.overhead) : []),
    ...(r.roundTrips ? roundTripSection(r.roundTrips) : []),
    ...(r.bundle ? bundleSection(r.bundle) : []),
    ...(r.replay ? replaySection(r.replay) : []),
    ...(r.promptCache ? promptCacheSection(r.promptCache) : []),
    ...(r.batching ? batchingSection(r.batching) : []),
    '## Phase times',
    '',
    table(
      ['phase', 'seconds'],
      Object.entries(r.phaseSeconds).map(([p, s]) => [p, s.toFixed(1)]),
    ),
    '',
  ].join('\n');
}

function targets(r: BenchResults): string[] {
  const rows: string[][] = [];
  for (const c of r.overhead ? peerChecks(r.overhead) : []) {
    const who = `${c.ours} ×${c.connections}`;
    rows.push([
      `${who}: added p50 ≤ Portkey's`,
      `${ms(c.p50.ours)} vs ${ms(c.p50.portkey)}`,
      mark(c.p50.met),
    ]);
    rows.push([
      `${who}: added p99 ≤ Portkey's`,
      `${ms(c.p99.ours)} vs ${ms(c.p99.portkey)}`,
      mark(c.p99.met),
    ]);
    rows.push([`${who}: req/s ≥ Portkey's`, `${c.rps.ours} vs ${c.rps.portkey}`, mark(c.rps.met)]);
  }
  for (const t of r.cpu ? cpuTargetRows(r.cpu) : []) rows.push([t.target, t.measured, mark(t.met)]);
  for (const t of r.roundTrips ?? []) {
    const first = t.miss.upstream[0]?.roundTripsBefore ?? Number.NaN;
    // Every request writes its metrics in one round trip after its response; when that write lands
    // before the response reaches the client, the count at the response includes it.
    const beforeResponse = Math.min(t.hit.atResponse, t.hit.total - 1);
    rows.push([
      `${t.path} hit: 1 Redis round trip before the response`,
      `${beforeResponse} (counted at the response: ≤ ${t.hit.atResponse}; in all, alone: ${t.hit.total}, one of them the isolate's metrics flush, which under load serves many requests)`,
      mark(beforeResponse <= 1),
    ]);
    rows.push([`${t.path} miss: ≤ 2 before the first upstream call`, `${first}`, mark(first <= 2)]);
  }
  if (r.replay) {
    const d = r.replay.duplicateGenerations;
    rows.push(['cost replay: duplicate generations = 0', `${d}`, mark(d === 0)]);
  }
  return rows.length ? ['## Targets', '', table(['target', 'measured', ''], rows), ''] : [];
}

function overheadSection(o: OverheadResult): string[] {
  const rows = o.targets.flatMap((t) =>
    t.runs.map((run) => {
      const added = addedLatency(o, t).find((a) => a.connections === run.connections);
      return [
        t.name,
        run.connections,
        run.rps,
        ms(run.latencyMs.p50),
        ms(run.latencyMs.p95),
        ms(run.latencyMs.p99),
        added ? `${ms(added.p50Ms)} (×${added.p50Ratio})` : t.baseline ? '—' : '(reference)',
        added ? `${ms(added.p99Ms)} (×${added.p99Ratio})` : '',
        run.non2xx + run.errors,
      ];
    }),
  );
  return [
    '## Gateway overhead and Portkey, same load, same run',
    '',
    `autocannon, ${o.options.durationSeconds} s per measurement after a ${o.options.warmupSeconds} s warm-up, at ${o.options.connections.join(', ')} connections. "Added" is the`,
    'latency over the direct simulator call it stands for (the difference and the ratio), percentile by percentile.',
    'The simulator answers at once (no model latency), so these are the costs of the gateways themselves.',
    '',
    ...o.targets.map((t) => `- **${t.name}**: ${t.description}.`),
    ...(o.proxySkipped ? [`- Not measured: ${o.proxySkipped}.`] : []),
    '',
    table(['target', 'conn.', 'req/s', 'p50', 'p95', 'p99', 'added p50', 'added p99', 'failed'], rows),
    '',
    'Our gateway does per request what Portkey does not by default: key authentication (a Redis lookup),',
    'a shared per-key rate limit, the daily budget (reservation and settlement on a miss), the circuit',
    'breaker, input moderation on a miss, and metrics written to Redis after the response. Portkey, as',
    'started here, forwards the request. A cache hit is our cheapest path; the OpenAI-compatible proxy,',
    'where measured, is the like-for-like comparison.',
    '',
  ];
}

function roundTripSection(list: RoundTripResult[]): string[] {
  const rows = list.flatMap((t) => [
    [
      `${t.path} miss`,
      t.miss.upstream.map((u) => `${u.roundTripsBefore} → ${u.endpoint}`).join(', '),
      `≤ ${t.miss.atResponse}`,
      t.miss.total,
    ],
    [`${t.path} hit`, `${t.hit.upstreamCalls} upstream calls`, `≤ ${t.hit.atResponse}`, t.hit.total],
  ]);
  return [
    '## Redis round trips per request',
    '',
    'Counted at the bridge (`GET /_bridge/stats`: one Upstash REST request = one round trip) on a quiet',
    'stack, single requests. On a miss the simulator holds each upstream call, so the count while it is',
    'held is exactly the round trips made before it. "By the response" is read when the response arrives:',
    'an upper bound, as the after-response work (metrics, cache write, settlement in `waitUntil`) may',
    `already have landed; for hits it is the least over ${list[0]?.hit.repeats ?? 0} repeats.`,
    '',
    table(['request', 'round trips before each upstream call', 'by the response', 'total'], rows),
    '',
  ];
}

function bundleSection(b: BundleResult): string[] {
  return [
    '## Worker bundle',
    '',
    `\`${b.command}\`: script ${kib(b.scriptBytes)} raw, ${kib(b.scriptGzipBytes)} gzipped (wrangler: ${b.wranglerSummary || 'n/a'}).`,
    '',
    table(
      ['largest contributors (source bytes in the bundle)', 'size'],
      b.heaviest.map((h) => [h.module, kib(h.bytes)]),
    ),
    '',
  ];
}

function replaySection(r: CostReplayResult): string[] {
  const o = r.options;
  return [
    '## Cost replay',
    '',
    ...(r.requests < r.planned
      ? [
          `**Shortened:** ${r.requests} of the ${r.planned} planned requests were sent: the replay sends nothing new`,
          `after ${o.timeCapSeconds} s, so the whole run stays within its time budget on a slow or busy machine; what was`,
          'sent is a prefix of the same deterministic sequence, and every figure below is computed on it.',
          '',
        ]
      : []),
    `${r.requests} \`POST /v1/creatives\` (copy only) drawn Zipf-like (s = ${o.zipfExponent}, seed ${o.seed}) from ${r.combinations}`,
    `category × audience × voice combinations, in bursts of ${o.burstSize} with ${o.concurrency} in flight; ${r.seconds} s (${r.rps} req/s).`,
    '',
    table(
      ['measure', 'value'],
      [
        ['distinct cache keys', r.distinctKeys],
        [
          'cache statuses',
          Object.entries(r.statuses)
            .map(([k, v]) => `${k} ${v}`)
            .join(', '),
        ],
        ['hit rate (HIT + COALESCED)', pct(r.hitRate)],
        ['theoretical maximum (1 − distinct / requests)', pct(r.theoreticalMaxHitRate)],
        ['generations (responses MISS + BYPASS)', r.generations],
        ['duplicate generations (generations − distinct keys)', r.duplicateGenerations],
        [
          'upstream generation calls (simulator), repairs of invalid outputs included',
          `${r.upstreamCalls} (${r.repairCalls} repairs)`,
        ],
        ['spend with the cache (`GET /v1/budget`)', usd(r.spendWithCacheUsd)],
        ['spend without it (extrapolated, see below)', usd(r.spendWithoutCacheUsd)],
        ['saving', pct(r.saving)],
      ],
    ),
    '',
    `Without the cache: the first ${r.noCacheSample.requests} requests of the replay were sent again with`,
    `\`cache-control: no-cache\` on a fresh key (${Object.entries(r.noCacheSample.statuses)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}), which settled ${usd(r.noCacheSample.spentUsd)};`,
    `that cost per request times ${r.requests} is the figure above (extrapolated: replaying every request uncached`,
    'would cost the run minutes of generations for the same per-request figure).',
    '',
  ];
}

function promptCacheSection(p: PromptCacheResult): string[] {
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  const row = (name: string, t: PromptCacheResult['direct']['pre19']) => [
    name,
    t.requests,
    t.input_tokens,
    `${t.cached_input_tokens} (${pct(t.cached_share)})`,
    t.cache_write_tokens,
    t.output_tokens,
    t.approved,
    t.tokens_per_approved === null ? '—' : Math.round(t.tokens_per_approved),
    usd(t.usd),
  ];
  return [
    '## Prompt caching',
    '',
    `${p.requests} creative misses of varied requests (copy only), ${p.model} lines of the simulator's invoice, which caches prompts like OpenAI (≥ 1,024-token prefixes per account and \`prompt_cache_key\`, 128-token steps, overflow past 15 a minute; cache writes billed at 1.25× input). "Through the gateway" is \`POST /v1/creatives\` four at a time (moderation included; its ledger settled at ${usd(p.gateway.ledgerUsd)}); the other two send the same requests straight to the simulator, each on a fresh account with the same call shape, with the prompt as it was before #19 and as it is now.`,
    '',
    table(
      [
        'run',
        'calls',
        'input tokens',
        'cached (share)',
        'cache writes',
        'output tokens',
        'approved',
        'tokens / approved',
        'invoice',
      ],
      [
        row('through the gateway', p.gateway),
        row('direct, prompt before #19', p.direct.pre19),
        row('direct, prompt now', p.direct.current),
      ],
    ),
    '',
    `Invoice now against before #19, same requests: ${pct(p.direct.saving)} lower.`,
    '',
  ];
}

function batchingSection(b: BatchingResult): string[] {
  const t = b.tokens;
  const g = b.gateway;
  const calls = (c: Record<string, number>) =>
    Object.entries(c)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
  return [
    '## Batching',
    '',
    `Tokens (bench/batching-tokens.ts, o200k) priced at ${b.model}'s $${b.pricePerMillion.input} / $${b.pricePerMillion.output} per 1M input / output tokens (lib/pricing/prices.ts):`,
    '',
    table(
      ['ten creatives', 'calls', 'input tokens', 'output tokens', 'cost'],
      [
        ['10 × single', t.single.calls, t.single.input_tokens, t.single.output_tokens, usd(t.single.costUsd)],
        [
          '1 × batch of 10',
          t.batched.calls,
          t.batched.input_tokens,
          t.batched.output_tokens,
          usd(t.batched.costUsd),
        ],
      ],
    ),
    '',
    `Through the running gateway (copy only, fresh keys, settled cost from \`GET /v1/budget\`):`,
    '',
    table(
      ['ten creatives', 'generation calls', 'all upstream calls', 'settled cost'],
      [
        [
          '10 × `POST /v1/creatives`',
          g.single.generationCalls,
          calls(g.single.upstreamCalls),
          usd(g.single.settledUsd),
        ],
        [
          '1 × `POST /v1/creatives/batch`',
          g.batched.generationCalls,
          calls(g.batched.upstreamCalls),
          usd(g.batched.settledUsd),
        ],
      ],
    ),
    '',
  ];
}
