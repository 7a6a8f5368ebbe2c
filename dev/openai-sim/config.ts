import { parseAccountBudget, parseRateLimits, type SimRateLimits } from './account-config.ts';
import { fail, isRecord, type ParseResult } from './parse-result.ts';

export { isRecord, type ParseResult };

/** Endpoints a fault's `endpoint` may name, and the keys of `/_sim/stats` `requests`. */
export const SIM_ENDPOINTS = [
  '/v1/responses',
  '/v1/chat/completions',
  '/v1/moderations',
  '/v1/images/generations',
  '/v1/embeddings',
  '/v1/models',
  '/v1/files',
  '/v1/files/{file_id}',
  '/v1/files/{file_id}/content',
  '/v1/batches',
  '/v1/batches/{batch_id}',
  '/v1/batches/{batch_id}/cancel',
] as const;

/** How the simulator behaves: `instant` (the default) answers at once; `realistic` is as slow and as costly as
 * production (see profile.ts). */
export const SIM_PROFILES = ['instant', 'realistic'] as const;

/** How a batch ends when nobody cancels it. */
export const BATCH_OUTCOMES = ['completed', 'failed', 'expired'] as const;

/** Every fault kind, in the order the docs list them. */
export const FAULT_KINDS = ['status', 'timeout', 'drop', 'malformed', 'schema_violation', 'refusal'] as const;

/** What a fault does: see SimFault and the module docs in index.ts. */
export type SimFaultKind = (typeof FAULT_KINDS)[number];

/** One injected failure. */
export interface SimFault {
  kind: SimFaultKind;
  /** Probability in [0, 1] that a matching request gets this fault. @default 1 */
  rate?: number;
  /** Only requests to this path, e.g. '/v1/responses'. @default all endpoints */
  endpoint?: string;
  /** HTTP status for kind 'status'. @default 500 */
  status?: number;
  /** `error.code` for kind 'status', e.g. 'insufficient_quota'. @default by status */
  code?: string;
  /** Sends `retry-after` (whole seconds, rounded up) and `retry-after-ms`. */
  retry_after_s?: number;
  /**
   * Applies to the next `times` requests it matches (and wins its `rate` roll), then is spent and skipped.
   * Each config scope counts its own uses; replacing or resetting a config starts the count again. In an
   * `x-sim-fault` header it changes nothing: a header fault only ever sees its own request. @default unlimited
   */
  times?: number;
  /**
   * Uses left of a fault with `times`, as `GET /_sim/config` reports it (0 once spent). Output only: a config
   * that sets it is rejected.
   */
  remaining?: number;
}

/** The whole fault/latency/moderation configuration; `POST /_sim/config` replaces it. */
export interface SimConfig {
  /**
   * Delay added before every answer: one number for every endpoint, or per endpoint
   * (`{"/v1/images/generations": 60000}`; endpoints left out answer at once). @default 0
   */
  latency_ms?: number | SimLatencyByEndpoint;
  /** Pause between the events of a streamed answer, so clients can watch a stream arrive. @default 0 */
  stream_interval_ms?: number;
  /** Checked in order; the first one that matches and wins its `rate` roll applies. @default [] */
  faults?: SimFault[];
  /** Words that make /v1/moderations flag text. @default DEFAULT_FLAGGED_TERMS */
  moderation?: { flagged_terms?: string[]; flag_images?: boolean };
  /** How batches created under this config run; each batch keeps the values it was created with. */
  batch?: SimBatchConfig;
  /**
   * Moves this scope's clock forward, as if that much time had passed: a running batch is seen that much
   * further along, so a test drives it through its states without waiting. @default 0
   */
  clock_offset_ms?: number;
  /**
   * `realistic`: production latency (time to first token, token speed, image times), reasoning tokens and
   * realistically large images; see profile.ts. `instant` answers at once with today's content. Prompt
   * caching applies on both (prompt-cache.ts).
   * An explicit `latency_ms` still wins for the endpoints it names. @default 'instant'
   */
  profile?: SimProfile;
  /**
   * Multiplies every delay of the realistic profile, and on every profile the prompt cache's idle window and
   * the minute its overflow counts requests in, e.g. 0.01. @default 1
   */
  time_scale?: number;
  /**
   * How long a cached prompt prefix lives after its last use (× `time_scale`); every hit renews it.
   * @default 300000 (5 minutes)
   */
  prompt_cache_idle_ms?: number;
  /**
   * Requests a minute (× `time_scale`) for one prompt route (first 256 tokens + `prompt_cache_key`) before
   * some overflow to other cache machines and miss there (cache-routing.ts). @default 15
   */
  prompt_cache_overflow_rpm?: number;
  /**
   * Realistic profile: every call to a reasoning model reasons exactly this many tokens, whatever its
   * effort, in place of the drawn distribution; for tests that need a known cut-off. @default drawn
   */
  reasoning_tokens?: number;
  /**
   * Requests and tokens per minute by model (`*` for every other model), per API key, e.g.
   * `{ "gpt-6-luna": { "rpm": 20 } }`; a field left out keeps its default (DEFAULT_RATE_LIMIT: 10,000 RPM,
   * 4,000,000 TPM). Enforced on the realistic profile, and on any profile whose config sets this; the minute
   * is scaled by `time_scale`. Over a limit: 429 `rate_limit_exceeded` (see admission.ts). @default defaults
   */
  rate_limits?: SimRateLimits;
  /**
   * Once the key's invoice total reaches this many dollars, every billable call is a 429
   * `insufficient_quota` until the key's invoice is reset. @default unlimited
   */
  account_budget_usd?: number;
}

/** One of SIM_PROFILES. */
export type SimProfile = (typeof SIM_PROFILES)[number];

/** Delay per endpoint (keys from SIM_ENDPOINTS), in ms. */
export type SimLatencyByEndpoint = Partial<Record<(typeof SIM_ENDPOINTS)[number], number>>;

/** The delay `latency` (a config's `latency_ms`) sets for `endpoint`. */
export function latencyFor(latency: SimConfig['latency_ms'], endpoint: string): number {
  return namedLatency(latency, endpoint) ?? 0;
}

/** The delay `latency` sets for `endpoint` when it names one (a number names every endpoint). */
export function namedLatency(latency: SimConfig['latency_ms'], endpoint: string): number | undefined {
  if (typeof latency === 'number') return latency;
  return latency?.[endpoint as keyof SimLatencyByEndpoint];
}

/** Batch timing and outcome, so tests can drive a batch through its states. */
export interface SimBatchConfig {
  /**
   * How long a batch runs. 0: it has ended at the first look after creation. Otherwise it is `in_progress`
   * with `request_counts` growing linearly until this much time has passed. @default 0
   */
  duration_ms?: number;
  /**
   * How it ends: `completed`; `failed` (at the first look, with a token-limit error and no output); or
   * `expired` (after `duration_ms`, with the first half of its lines done and the rest in the error file as
   * `batch_expired`). @default 'completed'
   */
  outcome?: (typeof BATCH_OUTCOMES)[number];
}

const CONFIG_KEYS = new Set([
  'latency_ms',
  'stream_interval_ms',
  'faults',
  'moderation',
  'batch',
  'clock_offset_ms',
  'profile',
  'time_scale',
  'prompt_cache_idle_ms',
  'prompt_cache_overflow_rpm',
  'reasoning_tokens',
  'rate_limits',
  'account_budget_usd',
]);
const FAULT_KEYS = new Set(['kind', 'rate', 'endpoint', 'status', 'code', 'retry_after_s', 'times']);

/** Validates a whole config (the body of `POST /_sim/config`); unknown keys are rejected to catch typos. */
export function parseSimConfig(input: unknown): ParseResult<SimConfig> {
  if (!isRecord(input)) return fail('config must be a JSON object');
  const unknown = Object.keys(input).find((key) => !CONFIG_KEYS.has(key));
  if (unknown) return fail(`unknown config field '${unknown}' (expected ${[...CONFIG_KEYS].join(', ')})`);
  const config: SimConfig = {};
  if (input.latency_ms !== undefined) {
    const latency = isRecord(input.latency_ms)
      ? parseLatencyByEndpoint(input.latency_ms)
      : parseLatency(input.latency_ms);
    if (!latency.ok) return latency;
    config.latency_ms = latency.value;
  }
  if (input.stream_interval_ms !== undefined) {
    const interval = parseLatency(input.stream_interval_ms);
    if (!interval.ok) return fail('stream_interval_ms must be a non-negative number');
    config.stream_interval_ms = interval.value;
  }
  if (input.clock_offset_ms !== undefined) {
    const offset = parseLatency(input.clock_offset_ms);
    if (!offset.ok) return fail('clock_offset_ms must be a non-negative number');
    config.clock_offset_ms = offset.value;
  }
  if (input.profile !== undefined) {
    const profile = parseProfile(input.profile);
    if (!profile.ok) return profile;
    config.profile = profile.value;
  }
  if (input.time_scale !== undefined) {
    const scale = parseTimeScale(input.time_scale);
    if (!scale.ok) return scale;
    config.time_scale = scale.value;
  }
  if (input.prompt_cache_idle_ms !== undefined) {
    const idle = input.prompt_cache_idle_ms;
    if (typeof idle !== 'number' || !Number.isFinite(idle) || idle <= 0) {
      return fail('prompt_cache_idle_ms must be a positive number of milliseconds');
    }
    config.prompt_cache_idle_ms = idle;
  }
  if (input.prompt_cache_overflow_rpm !== undefined) {
    const rpm = input.prompt_cache_overflow_rpm;
    if (typeof rpm !== 'number' || !Number.isSafeInteger(rpm) || rpm < 1) {
      return fail('prompt_cache_overflow_rpm must be a positive integer');
    }
    config.prompt_cache_overflow_rpm = rpm;
  }
  if (input.reasoning_tokens !== undefined) {
    const tokens = input.reasoning_tokens;
    if (typeof tokens !== 'number' || !Number.isSafeInteger(tokens) || tokens < 0) {
      return fail('reasoning_tokens must be a non-negative integer');
    }
    config.reasoning_tokens = tokens;
  }
  if (input.rate_limits !== undefined) {
    const limits = parseRateLimits(input.rate_limits);
    if (!limits.ok) return limits;
    config.rate_limits = limits.value;
  }
  if (input.account_budget_usd !== undefined) {
    const budget = parseAccountBudget(input.account_budget_usd);
    if (!budget.ok) return budget;
    config.account_budget_usd = budget.value;
  }
  if (input.faults !== undefined) {
    const faults = parseFaults(input.faults);
    if (!faults.ok) return faults;
    config.faults = faults.value;
  }
  if (input.moderation !== undefined) {
    const terms = isRecord(input.moderation) ? input.moderation.flagged_terms : undefined;
    const flagImages = isRecord(input.moderation) ? input.moderation.flag_images : undefined;
    if (
      !isRecord(input.moderation) ||
      Object.keys(input.moderation).some((key) => key !== 'flagged_terms' && key !== 'flag_images')
    ) {
      return fail("moderation must be an object with only 'flagged_terms' and 'flag_images'");
    }
    if (flagImages !== undefined && typeof flagImages !== 'boolean') {
      return fail('moderation.flag_images must be a boolean');
    }
    if (
      terms !== undefined &&
      !(Array.isArray(terms) && terms.every((t) => typeof t === 'string' && t.trim()))
    ) {
      return fail('moderation.flagged_terms must be an array of non-empty strings');
    }
    config.moderation = {
      ...(terms === undefined ? {} : { flagged_terms: terms as string[] }),
      ...(flagImages === undefined ? {} : { flag_images: flagImages }),
    };
  }
  if (input.batch !== undefined) {
    const batch = parseBatchConfig(input.batch);
    if (!batch.ok) return batch;
    config.batch = batch.value;
  }
  return { ok: true, value: config };
}

function parseBatchConfig(input: unknown): ParseResult<SimBatchConfig> {
  if (!isRecord(input) || Object.keys(input).some((key) => key !== 'duration_ms' && key !== 'outcome')) {
    return fail("batch must be an object with only 'duration_ms' and 'outcome'");
  }
  const { duration_ms, outcome } = input;
  if (
    duration_ms !== undefined &&
    !(typeof duration_ms === 'number' && Number.isFinite(duration_ms) && duration_ms >= 0)
  ) {
    return fail('batch.duration_ms must be a non-negative number of milliseconds');
  }
  if (outcome !== undefined && !BATCH_OUTCOMES.includes(outcome as SimBatchConfig['outcome'] & string)) {
    return fail(`batch.outcome must be one of ${BATCH_OUTCOMES.join(', ')}`);
  }
  return { ok: true, value: input as SimBatchConfig };
}

function parseProfile(input: unknown): ParseResult<SimProfile> {
  if (!SIM_PROFILES.includes(input as SimProfile))
    return fail(`profile must be one of ${SIM_PROFILES.join(', ')}`);
  return { ok: true, value: input as SimProfile };
}

/** A positive, finite time scale; numeric strings (env vars) are accepted. */
function parseTimeScale(input: unknown): ParseResult<number> {
  const value = typeof input === 'string' && input.trim() !== '' ? Number(input) : input;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    return fail('time_scale must be a positive number');
  }
  return { ok: true, value };
}

/** A non-negative latency in ms; numeric strings (env vars, headers) are accepted. */
export function parseLatency(input: unknown): ParseResult<number> {
  const value = typeof input === 'string' && input.trim() !== '' ? Number(input) : input;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    return fail('latency_ms must be a non-negative number');
  }
  return { ok: true, value };
}

function parseLatencyByEndpoint(input: Record<string, unknown>): ParseResult<SimLatencyByEndpoint> {
  const latency: SimLatencyByEndpoint = {};
  for (const [endpoint, ms] of Object.entries(input)) {
    if (!SIM_ENDPOINTS.includes(endpoint as (typeof SIM_ENDPOINTS)[number])) {
      return fail(`latency_ms: '${endpoint}' is not one of ${SIM_ENDPOINTS.join(', ')}`);
    }
    const parsed = parseLatency(ms);
    if (!parsed.ok) return fail(`latency_ms['${endpoint}'] must be a non-negative number`);
    latency[endpoint as keyof SimLatencyByEndpoint] = parsed.value;
  }
  return { ok: true, value: latency };
}

/** Accepts one fault object or an array of them (the `x-sim-fault` header allows both). */
export function parseFaults(input: unknown): ParseResult<SimFault[]> {
  const list = Array.isArray(input) ? input : [input];
  const faults: SimFault[] = [];
  for (const [index, item] of list.entries()) {
    const fault = parseFault(item);
    if (!fault.ok) return fail(`faults[${index}]: ${fault.message}`);
    faults.push(fault.value);
  }
  return { ok: true, value: faults };
}

function parseFault(input: unknown): ParseResult<SimFault> {
  if (!isRecord(input)) return fail('a fault must be an object');
  if ('remaining' in input) {
    return fail("'remaining' is reported by GET /_sim/config and cannot be set (set 'times' instead)");
  }
  const unknown = Object.keys(input).find((key) => !FAULT_KEYS.has(key));
  if (unknown) return fail(`unknown fault field '${unknown}'`);
  const { kind, rate, endpoint, status, code, retry_after_s, times } = input;
  if (!FAULT_KINDS.includes(kind as SimFaultKind))
    return fail(`kind must be one of ${FAULT_KINDS.join(', ')}`);
  if (rate !== undefined && !(typeof rate === 'number' && rate >= 0 && rate <= 1)) {
    return fail('rate must be a number between 0 and 1');
  }
  if (endpoint !== undefined && !SIM_ENDPOINTS.includes(endpoint as (typeof SIM_ENDPOINTS)[number])) {
    return fail(`endpoint must be one of ${SIM_ENDPOINTS.join(', ')}`);
  }
  if (
    status !== undefined &&
    !(Number.isInteger(status) && (status as number) >= 100 && (status as number) <= 599)
  ) {
    return fail('status must be an integer HTTP status (100-599)');
  }
  if (code !== undefined && typeof code !== 'string') return fail('code must be a string');
  if (retry_after_s !== undefined && !(typeof retry_after_s === 'number' && retry_after_s >= 0)) {
    return fail('retry_after_s must be a non-negative number');
  }
  if (times !== undefined && !(Number.isInteger(times) && (times as number) >= 1)) {
    return fail('times must be a positive integer');
  }
  return { ok: true, value: input as unknown as SimFault };
}

/**
 * The run-level config from `SIM_LATENCY_MS`, `SIM_FAULTS`, `SIM_PROFILE` and `SIM_TIME_SCALE`; throws on
 * invalid values.
 */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): SimConfig {
  const config: SimConfig = {};
  if (env.SIM_LATENCY_MS) {
    // A number, or a JSON object of endpoint → ms.
    const raw = env.SIM_LATENCY_MS.trim();
    let input: unknown = raw;
    if (raw.startsWith('{')) {
      try {
        input = JSON.parse(raw);
      } catch {
        throw new Error('SIM_LATENCY_MS: not valid JSON');
      }
    }
    const latency = isRecord(input) ? parseLatencyByEndpoint(input) : parseLatency(input);
    if (!latency.ok) throw new Error(`SIM_LATENCY_MS: ${latency.message}`);
    config.latency_ms = latency.value;
  }
  if (env.SIM_FAULTS) {
    let raw: unknown;
    try {
      raw = JSON.parse(env.SIM_FAULTS);
    } catch {
      throw new Error('SIM_FAULTS: not valid JSON');
    }
    const faults = parseFaults(raw);
    if (!faults.ok) throw new Error(`SIM_FAULTS: ${faults.message}`);
    config.faults = faults.value;
  }
  if (env.SIM_PROFILE) {
    const profile = parseProfile(env.SIM_PROFILE.trim());
    if (!profile.ok) throw new Error(`SIM_PROFILE: ${profile.message}`);
    config.profile = profile.value;
  }
  if (env.SIM_TIME_SCALE) {
    const scale = parseTimeScale(env.SIM_TIME_SCALE);
    if (!scale.ok) throw new Error(`SIM_TIME_SCALE: ${scale.message}`);
    config.time_scale = scale.value;
  }
  return config;
}
