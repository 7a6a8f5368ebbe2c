/**
 * An OpenAI-compatible HTTP server with fault injection, for tests, benchmarks, failure drills and keyless
 * local development. Endpoints (bearer auth required, any non-empty key): POST /v1/responses,
 * /v1/chat/completions, /v1/moderations, /v1/images/generations, /v1/embeddings; GET /v1/models; the Files
 * API (POST /v1/files as multipart, GET /v1/files/{id}, GET /v1/files/{id}/content, DELETE /v1/files/{id})
 * and the Batch API (POST /v1/batches, GET /v1/batches, GET /v1/batches/{id}, POST /v1/batches/{id}/cancel).
 *
 * Batches run their lines through the endpoints' own handlers and write output and error files with the
 * lines in reverse input order (OpenAI promises no order), with `request_counts` and `usage` summed from the
 * answers. The config's `batch: { duration_ms, outcome }` (per key, like faults) sets how long a batch runs
 * (0, the default: ended at the first retrieve) and how it ends (`completed`, `failed`, `expired`); a cancel
 * answers `cancelling` and the next retrieve `cancelled`, with the lines finished by then. Files and batches
 * are shared by all keys, as in one OpenAI project. Lines a batch runs are not counted in `/_sim/stats`;
 * they are billed (at 50 %) when the batch ends.
 *
 * Output is deterministic: the same model, input and schema give the same content (ids and timestamps
 * still differ). Structured outputs return JSON valid against the requested schema, built from the
 * property names and the input's words. Chat Completions without `response_format` (or with `type: 'text'`)
 * follow a schema given in the prompt, as a compliant model would: when a system or developer message says
 * `valid against this JSON Schema:` followed by a JSON schema object, the answer is JSON valid against it.
 * That schema may be non-strict (optional properties, no `additionalProperties: false`, `$schema`); text
 * after the marker that is not a JSON object gets plain text.
 *
 * Moderation flags text containing a configured term (default: kill, murder, bomb, terrorist, suicide, porn,
 * nazi) and images whose URL, or data URL bytes, contain `sim-flag`. An image prompt containing `sim-flag`
 * yields PNGs that moderation flags. `moderation.flag_images: true` in a config flags every image.
 * `GET /_sim/images/<name>` is a test image host (image-host.ts): images well and badly served, for a
 * gateway that fetches a client's image URL itself.
 *
 * Faults (`status`, `timeout`, `drop`, `malformed`, `schema_violation`, `refusal`) and latency come from:
 * the run config (`options.config`, else env `SIM_LATENCY_MS` / `SIM_FAULTS` / `SIM_PROFILE` /
 * `SIM_TIME_SCALE`); the headers `x-sim-fault` (a JSON fault or array, checked before the config's) and
 * `x-sim-latency-ms` (replaces the config's); and the control API `POST /_sim/config`, `GET /_sim/stats`,
 * `GET /_sim/invoice`, `GET /_sim/inputs` (the images requests carried), `POST /_sim/reset`, each optionally
 * scoped with `?key=<api key>` (see control.ts). `schema_violation` and `refusal` apply only where text is generated
 * (responses and chat; `schema_violation` only when a schema is requested, in `response_format`/`text.format`
 * or in a chat prompt).
 *
 * A config's `stream_interval_ms` writes a streamed answer's events that far apart, so a client can watch a
 * stream arrive (and a proxy be caught buffering one); a `drop` still cuts such a stream in half. A `timeout`
 * fault generates the answer (and bills it) but never sends it; a `drop` on a non-streamed request cuts the
 * connection when the answer would have gone.
 *
 * Two profiles (config `profile`, env `SIM_PROFILE`, per scope like every config field). `instant`, the
 * default, answers at once with small, cheap answers. `realistic` is as slow and as costly as production
 * (shared/reference/production-realities.md):
 * - latency per endpoint and request size (profile.ts): text after a time to first token of 0.3–1.5 s plus
 *   output at 50–150 tokens/s, streams paced token by token; images 20–120 s by size and quality;
 *   moderation 0.1–0.4 s; embeddings 0.05–0.3 s. `time_scale` (env `SIM_TIME_SCALE`, e.g. 0.01) multiplies
 *   every one of these delays; an explicit `latency_ms` (or `x-sim-latency-ms`) still wins for the endpoints
 *   it names;
 * - reasoning models (gpt-5*, gpt-6*, o-series) reason (reasoning.ts): lognormal token counts per
 *   `reasoning.effort` / `reasoning_effort` (medians low 256, medium 1,024 (the default), high 4,096,
 *   xhigh/max 8,192; sigma 0.6; none/minimal 0), reported in `reasoning_tokens`, counted in the output and
 *   against `max_output_tokens` / `max_completion_tokens` / `max_tokens`: past the cap a response is
 *   `incomplete` (no message item at all when reasoning alone reached it) and a chat choice ends `length`;
 * - images are full-size PNGs of megabytes (image-pixels.ts), and sizes follow gpt-image-2's rules.
 * Seeded by the request's content, the same request always reasons as long and takes as long.
 *
 * On both profiles prompts are cached as OpenAI caches them (prompt-cache.ts): per key, model and
 * `prompt_cache_key`, a request reads the longest prefix of 1,024+ tokens it shares with a cached prompt, in
 * 128-token steps (`cached_tokens`), and writes the rest (`cache_write_tokens`); the prompt runs instructions
 * and system messages, schema, tools, then input (prompt-sequence.ts). An entry lives `prompt_cache_idle_ms`
 * (5 min) × `time_scale` after its last use; past `prompt_cache_overflow_rpm` (15) requests a minute on one
 * route (first 256 tokens + key) some go to other cache machines and miss there (cache-routing.ts).
 *
 * On both profiles the simulator bills what OpenAI would (invoice.ts, from its own price list in prices.ts,
 * with `service_tier` priority 2× and flex 0.5×, built-in Responses tools a fee per call, batch lines 50 %):
 * every request it generated an answer for, including those whose client disconnected or timed out
 * (`abandoned: true`; a cut stream is billed for the tokens generated until the cut), `timeout`, `drop` and
 * `malformed` faults; `status` faults and rejected requests are not billed. `GET /_sim/invoice` shows it,
 * `?key=` scoped like the stats. Lines carry the request's `x-client-request-id` as `request_id`.
 *
 * Each API key is an account (admission.ts), checked before anything is generated:
 * - rate limits per key and model (config `rate_limits: { "<model>" | "*": { rpm?, tpm? } }`, defaults 10,000
 *   RPM and 4,000,000 TPM), enforced on the realistic profile and on any profile whose config sets them. Capacity
 *   comes back continuously over a minute × `time_scale` (on the key's clock, so `clock_offset_ms` moves it). A
 *   request counts 1 request and its input estimate plus its output cap in tokens (requested-tokens.ts). Over a
 *   limit: 429 `rate_limit_exceeded` with OpenAI's message ("Rate limit reached for <model> in organization
 *   org-… on requests per min (RPM): Limit 20, Used 20, Requested 1. Please try again in 3s. …", `type`
 *   `requests` or `tokens`), `x-ratelimit-reset-*` naming when the request fits, and `retry-after` /
 *   `retry-after-ms` on about half of them (picked by the request's content). Every model call carries
 *   `x-ratelimit-*` headers from the same limiter;
 * - quota: once the key's invoice reaches the config's `account_budget_usd`, every billable call (moderation
 *   is free) is a 429 `insufficient_quota`, without `retry-after`.
 * A refused call is answered at once, is not billed, generates nothing and is counted in `/_sim/stats` faults
 * as `rate_limit_exceeded` or `insufficient_quota`; it does not count against the limits.
 *
 * A fault with `times: n` applies to the next n requests it matches (and wins its `rate` roll), then is spent
 * and skipped; it stays listed in `GET /_sim/config` with `remaining: 0`. Each config scope counts its own
 * uses, and replacing or resetting a config restarts the count. A `status`, `timeout`, `drop` or `malformed`
 * fault without an `endpoint` also matches (and is used up by) moderation and embedding calls, so name the
 * endpoint to count model calls only. In an `x-sim-fault` header, `times` changes nothing.
 *
 * @example
 * const sim = await startSimulator({ config: { faults: [{ kind: 'status', status: 503, rate: 0.3 }] } });
 * const client = new OpenAI({ apiKey: 'sim', baseURL: `${sim.url}/v1`, maxRetries: 0 });
 * await sim.close();
 * @example
 * // Production-like, a hundred times faster:
 * const sim = await startSimulator({ config: { profile: 'realistic', time_scale: 0.01 } });
 * @example
 * // POST /_sim/config bodies. The first schema-bound call breaks the schema and the repair call succeeds:
 * { "faults": [{ "kind": "schema_violation", "times": 1 }] }
 * // The first three chat calls get a 503, then the API recovers:
 * { "faults": [{ "kind": "status", "status": 503, "times": 3, "endpoint": "/v1/chat/completions" }] }
 * // 20 requests a minute for gpt-6-luna, 1,000 tokens a minute for every other model, $1 of credit:
 * { "rate_limits": { "gpt-6-luna": { "rpm": 20 }, "*": { "tpm": 1000 } }, "account_budget_usd": 1 }
 */
import type { AddressInfo } from 'node:net';
import { configFromEnv, parseSimConfig, type SimConfig } from './config.ts';
import { createSimServer } from './server.ts';
import { createSimState } from './state.ts';

export type { SimConfig, SimFault, SimFaultKind } from './config.ts';
export type { SimStats } from './state.ts';

/** How to start the simulator. */
export interface SimulatorOptions {
  /** @default 0 (free port) */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /**
   * Run-level config; fields left out come from env SIM_LATENCY_MS / SIM_FAULTS / SIM_PROFILE / SIM_TIME_SCALE.
   * `/_sim/reset` restores it.
   */
  config?: SimConfig;
  /** Receives one line per request (method, path, status, time, fault) and internal errors. @default none */
  log?: (line: string) => void;
}

/** A started simulator. */
export interface RunningSimulator {
  /** e.g. http://127.0.0.1:PORT, without /v1. */
  url: string;
  port: number;
  /** Stops listening and destroys open connections, including requests held by a `timeout` fault. */
  close(): Promise<void>;
}

/** Starts the simulator; rejects on an invalid config (options or env) or when the port is taken. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const runConfig = resolveRunConfig(options.config);
  const host = options.host ?? '127.0.0.1';
  const { server, destroyAll } = createSimServer(createSimState(runConfig), options.log);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closed: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    close() {
      closed ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        destroyAll();
      });
      return closed;
    },
  };
}

function resolveRunConfig(config: SimConfig | undefined): SimConfig {
  // Env only fills the fields options.config leaves out, so a bad env var cannot break an explicit config.
  const fromEnv = configFromEnv({
    SIM_LATENCY_MS: config?.latency_ms === undefined ? process.env.SIM_LATENCY_MS : undefined,
    SIM_FAULTS: config?.faults === undefined ? process.env.SIM_FAULTS : undefined,
    SIM_PROFILE: config?.profile === undefined ? process.env.SIM_PROFILE : undefined,
    SIM_TIME_SCALE: config?.time_scale === undefined ? process.env.SIM_TIME_SCALE : undefined,
  });
  const merged: SimConfig = { ...fromEnv, ...stripUndefined(config ?? {}) };
  const parsed = parseSimConfig(merged);
  if (!parsed.ok) throw new Error(`Invalid simulator config: ${parsed.message}`);
  return parsed.value;
}

function stripUndefined(config: SimConfig): SimConfig {
  return Object.fromEntries(Object.entries(config).filter(([, value]) => value !== undefined));
}
