/**
 * Gateway overhead and the peer comparison, in one run on one machine: the same load (1, 10 and 50
 * connections) against the simulator directly, our gateway (cache hit, cache miss, and the
 * OpenAI-compatible proxy when it exists) and the Portkey gateway proxying to the same simulator.
 */

import { zodTextFormat } from 'openai/helpers/zod';
import { uniqueWord } from '../dev/unique-word.ts';
import { opportunitiesTask } from '../lib/domain/opportunities-prompt.ts';
import { jsonHeaders, postJson } from './lib/client.ts';
import { type LoadOptions, type LoadResult, type LoadTarget, measure } from './lib/load.ts';
import type { RunningPortkey } from './lib/portkey.ts';
import type { Stack } from './lib/stack.ts';

export interface OverheadOptions {
  connections: number[];
  durationSeconds: number;
  warmupSeconds: number;
}

/** One target measured at every connection count. */
export interface TargetRuns {
  name: string;
  description: string;
  /** The direct simulator target whose latency this one adds to (absent for the baselines). */
  baseline?: string;
  runs: LoadResult[];
}

export interface OverheadResult {
  options: OverheadOptions;
  targets: TargetRuns[];
  /** Why the OpenAI-compatible proxy was not measured, when it was not. */
  proxySkipped?: string;
}

const INTENT = 'waterproof hiking boots for a rainy autumn trip';
const CHAT = {
  model: 'gpt-6-luna',
  messages: [{ role: 'user', content: `Suggest three gift ideas for ${INTENT}.` }],
};
const PROXY_PATH = '/openai/v1/chat/completions';

/** Measures every target, one after the other, so each has the machine to itself. */
export async function benchOverhead(
  stack: Stack,
  portkey: RunningPortkey,
  options: OverheadOptions,
  log: (line: string) => void,
): Promise<OverheadResult> {
  const key = await stack.createKey();
  // The direct calls use their own simulator key, so their counts never mix with the gateway's.
  const directKey = 'sim-bench-direct';
  const task = opportunitiesTask({ intent: INTENT });
  const responsesBody = {
    model: 'gpt-6-luna',
    instructions: task.instructions,
    input: [{ role: 'user', content: [{ type: 'input_text', text: task.input }] }],
    text: { format: zodTextFormat(task.schema, task.name) },
    max_output_tokens: task.maxOutputTokens,
  };
  const opportunities = `${stack.gatewayUrl}/v1/opportunities`;
  // Prime the cache, so every request of the hit target is a hit.
  const primed = await postJson(opportunities, key, { intent: INTENT });
  if (primed.status !== 200) throw new Error(`priming /v1/opportunities: ${primed.status}`);

  const targets: (Omit<TargetRuns, 'runs'> & { target: LoadTarget })[] = [
    {
      name: 'simulator: responses',
      description: 'POST /v1/responses straight to the simulator (the structured call a miss makes)',
      target: {
        url: `${stack.simulatorUrl}/v1/responses`,
        headers: jsonHeaders(directKey),
        body: JSON.stringify(responsesBody),
      },
    },
    {
      name: 'simulator: chat',
      description: 'POST /v1/chat/completions straight to the simulator',
      target: {
        url: `${stack.simulatorUrl}/v1/chat/completions`,
        headers: jsonHeaders(directKey),
        body: JSON.stringify(CHAT),
      },
    },
    {
      name: 'gateway: floor',
      description:
        'GET / (public, no Redis before the response, its metrics after): roughly what `wrangler dev` adds locally to any request (its proxy worker in a second workerd) plus Hono',
      target: { url: `${stack.gatewayUrl}/`, method: 'GET' },
    },
    {
      name: 'gateway: cache hit',
      description: 'the same POST /v1/opportunities again and again (auth, rate limit, cache read, metrics)',
      baseline: 'simulator: responses',
      target: { url: opportunities, headers: jsonHeaders(key), body: JSON.stringify({ intent: INTENT }) },
    },
    {
      name: 'gateway: cache miss',
      description: 'POST /v1/opportunities with a new intent each time (moderation call + generation)',
      baseline: 'simulator: responses',
      target: {
        url: opportunities,
        headers: jsonHeaders(key),
        nextBody: () => JSON.stringify({ intent: `${INTENT}, request ${uniqueWord()}` }),
      },
    },
    {
      name: 'portkey: chat',
      description: `Portkey ${portkey.version} proxying POST /v1/chat/completions to the simulator`,
      baseline: 'simulator: chat',
      target: {
        url: `${portkey.url}/v1/chat/completions`,
        headers: portkey.headersFor(`${stack.simulatorUrl}/v1`, directKey),
        body: JSON.stringify(CHAT),
      },
    },
  ];
  const probe = await postJson(`${stack.gatewayUrl}${PROXY_PATH}`, key, CHAT);
  let proxySkipped: string | undefined;
  if (probe.status === 200) {
    targets.push({
      name: 'gateway: proxy',
      description: `POST ${PROXY_PATH} through our gateway to the simulator (auth, rate limit, budget reservation and settlement, breaker, metrics; never cached)`,
      baseline: 'simulator: chat',
      target: {
        url: `${stack.gatewayUrl}${PROXY_PATH}`,
        headers: jsonHeaders(key),
        body: JSON.stringify(CHAT),
      },
    });
  } else {
    proxySkipped = `POST ${PROXY_PATH} answered ${probe.status} in this run (the proxy is not built yet)`;
  }

  const measured: TargetRuns[] = [];
  for (const { target, ...about } of targets) {
    const runs: LoadResult[] = [];
    for (const connections of options.connections) {
      const load: LoadOptions = {
        connections,
        durationSeconds: options.durationSeconds,
        warmupSeconds: options.warmupSeconds,
      };
      const result = await measure(target, load);
      log(
        `${about.name} ×${connections}: ${result.rps} req/s, p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, non-2xx ${result.non2xx}`,
      );
      runs.push(result);
    }
    measured.push({ ...about, runs });
  }
  return { options, targets: measured, ...(proxySkipped ? { proxySkipped } : {}) };
}
