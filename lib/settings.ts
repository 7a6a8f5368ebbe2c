import { z } from 'zod';
import { bool, int, json, num, outboundUrl, secret, text, timeZone, unset, url } from './setting-fields.ts';
import {
  BackupProviderSpec,
  ModelPolicySpec,
  PriceOverrideSpec,
  PromptVariantsSpec,
} from './setting-specs.ts';

/**
 * Every setting the gateway reads; lib/env.ts validates them once per env object. Defaults live here
 * and in docs/configuration.md, whose table test/dev/configuration-docs.test.ts holds to this schema:
 * every setting named once, each literal default as applied here.
 */

/**
 * The most BULK_MAX_ITEMS may be set to (OpenAI takes 50,000 per batch). A 10,000-item job adds about
 * 45 MB to the Worker to submit and at most ~30 MB per collecting run (bench/RESULTS.md, "Memory"), and
 * at the largest BULK_COLLECT_PER_RUN (1,000 per run, a run every 10 minutes) it is collected within
 * the two hours its reservation's lease gives it after the 24 h window (lib/bulk/ledger.ts).
 */
export const BULK_ITEMS_LIMIT = 10_000;

export const Settings = z.object({
  /** OpenAI (or compatible) API key; a secret. */
  OPENAI_API_KEY: secret(),
  OPENAI_BASE_URL: url().default('https://api.openai.com/v1'),
  /** Attempts after the first one for a retryable failure. */
  OPENAI_MAX_RETRIES: int(3, 0, 10),
  /** First retry backoff; doubled on each retry (1 s, 2 s, 4 s). */
  OPENAI_RETRY_BASE_MS: int(1000, 0, 60_000),
  /** Longest wait before a retry, also the cap on a provider's `retry-after`. */
  OPENAI_RETRY_MAX_DELAY_MS: int(20_000, 0, 300_000),
  /** Per-attempt timeout of a text or vision call (structured outputs, the proxy's chat and responses). */
  OPENAI_TIMEOUT_SECONDS: num(30, 1, 600),
  /** Per-attempt timeout of an image generation: complex prompts take up to about two minutes. */
  OPENAI_IMAGE_TIMEOUT_SECONDS: num(180, 1, 900),
  /** Per-attempt timeout of an embeddings call (up to 2,048 inputs). */
  OPENAI_EMBEDDING_TIMEOUT_SECONDS: num(20, 1, 600),
  /** Per-attempt timeout of a moderation call. */
  OPENAI_MODERATION_TIMEOUT_SECONDS: num(10, 1, 600),
  OPENAI_DAILY_BUDGET_USD: num(100, 0, 1_000_000),
  /** Requests per minute the whole gateway may send upstream. */
  OPENAI_RATE_LIMIT_RPM: int(1000, 1, 1_000_000),
  /** Spend that triggers the first alert; defaults to 80 % of the daily budget. */
  OPENAI_ALERT_THRESHOLD_USD: z.preprocess(unset, z.coerce.number().min(0).optional()),
  /** Consecutive provider failures that open the circuit breaker. */
  OPENAI_CIRCUIT_BREAKER_FAILURES: int(5, 1, 1000),
  /** Seconds an open breaker waits before letting one probe through; fractions allowed (0.05 = 50 ms). */
  OPENAI_CIRCUIT_BREAKER_TIMEOUT: num(60, 0.01, 86_400),
  OPENAI_TEXT_MODEL: text('gpt-6-luna'),
  OPENAI_IMAGE_MODEL: text('gpt-image-2.5-flare'),
  OPENAI_MODERATION_MODEL: text('omni-moderation-latest'),
  OPENAI_EMBEDDING_MODEL: text('text-embedding-3-large'),
  OPENAI_VISION_MODEL: text('gpt-6-luna'),
  /** JSON object of model id → price changes; replaces or adds entries of the built-in price table. */
  PRICING_OVERRIDES: z.preprocess(unset, json(z.record(z.string().min(1), PriceOverrideSpec)).default({})),
  /** How long an approved creative or an opportunity set is reused. */
  CACHE_TTL_SECONDS: int(86_400, 60, 30 * 86_400),
  /** Share cached results between keys instead of a namespace per key. */
  CACHE_SHARED_NAMESPACE: bool(false),
  /** How often a request waiting for an identical one in flight asks Redis for its answer again. */
  CACHE_POLL_MS: int(150, 1, 10_000),
  /**
   * A single-flight leader's lease without renewal: renewed every third while it generates, it is how
   * long identical requests wait before one takes over from a leader that died.
   */
  CACHE_LEASE_MS: int(90_000, 100, 3_600_000),
  /** Refuse creatives when the moderation API cannot be reached (the local layers always run). */
  MODERATION_FAIL_CLOSED: bool(true),
  /** JSON: the business-rule and brand-safety lists, replacing the built-in ones (docs/configuration.md). */
  MODERATION_RULES: z.preprocess(unset, json(z.unknown()).optional()),
  /** Embedding size for semantic matching (text-embedding-3 shortens vectors); 0 = the model's own. */
  EMBEDDING_DIMENSIONS: int(1024, 0, 3072),
  /** How long a text's embedding is reused. */
  EMBEDDING_CACHE_TTL_SECONDS: int(30 * 86_400, 60, 365 * 86_400),
  /** Most creative requests one `POST /v1/creatives/batch` takes. */
  CREATIVES_BATCH_MAX_ITEMS: int(10, 1, 50),
  /** JSON: the model serving each task and the cheaper one to degrade to past the alert threshold. */
  MODEL_POLICY: z.preprocess(unset, json(ModelPolicySpec).default({})),
  /** JSON: weighted prompt variants per task, for A/B tests (docs/api.md, "Prompt variants"). */
  PROMPT_VARIANTS: z.preprocess(unset, json(PromptVariantsSpec).default({})),
  // --- bulk jobs (lib/bulk) ---
  /** Most requests one bulk job (`POST /v1/batches`) takes. */
  BULK_MAX_ITEMS: int(1000, 1, BULK_ITEMS_LIMIT),
  /**
   * Share of a bulk job's items (at least one) whose answer, cut off at its cap, is asked again once at
   * twice the cap: the job's reservation holds that many retries at the standard price.
   */
  BULK_RETRY_PERCENT: int(5, 0, 100),
  /** Most items one bulk poll (cron run) collects across jobs, to stay inside Workers' subrequest limits. */
  BULK_COLLECT_PER_RUN: int(200, 1, 1000),
  /** Most running bulk jobs one poll looks at, the longest-waiting first. */
  BULK_POLL_JOBS_PER_RUN: int(50, 1, 500),
  /** How long a finished bulk job's status and results can be read. */
  BULK_RESULTS_TTL_SECONDS: int(7 * 86_400, 3600, 30 * 86_400),
  // --- end bulk jobs ---
  /** JSON list of backup providers, tried in order when OpenAI is down (docs/operations.md, "Backups"). */
  BACKUP_PROVIDERS: z.preprocess(unset, json(z.array(BackupProviderSpec).max(5)).default([])),
  /** Secret for /admin/* (and any client route). Unset: the admin API is closed. */
  ADMIN_API_KEY: z.preprocess(unset, z.string().trim().min(16, 'must be at least 16 characters').optional()),
  /** Requests per minute per client key, unless the key has its own. */
  KEY_RATE_LIMIT_RPM: int(60, 1, 1_000_000),
  /**
   * Units of work per minute per client key, unless the key has its own `upm`: an item of a batch, an
   * embedding input, an image, or 1,000 tokens as reserved (input estimate + output cap). Cache hits
   * count as requests only.
   */
  KEY_RATE_LIMIT_UPM: int(2_000, 1, 100_000_000),
  /**
   * A client key's daily budget when it names none: this share of OPENAI_DAILY_BUDGET_USD (0.25 = a
   * quarter). Shares may add up past 1; no key is promised headroom.
   */
  KEY_BUDGET_SHARE: num(0.25, 0, 1),
  /** IANA time zone whose calendar day is the budget day. */
  BUDGET_TIMEZONE: timeZone(),
  /**
   * How long a budget reservation's lease outlasts the longest its call may take (every attempt at its
   * capability's timeout) before it is charged as lost. A stream renews its lease while it runs.
   */
  BUDGET_LEASE_MARGIN_SECONDS: int(60, 0, 3600),
  /**
   * Milliseconds a settle may wait for the isolate's other open reservations, to be written with theirs
   * in one round trip (lib/settle-batch.ts); 0 writes each at once. The last to close writes at once.
   */
  BUDGET_SETTLE_HOLD_MS: int(100, 0, 1000),
  /** Slack-compatible incoming webhook for budget alerts. */
  ALERT_WEBHOOK_URL: z.preprocess(unset, outboundUrl().optional()),
  UPSTASH_REDIS_REST_URL: url(),
  UPSTASH_REDIS_REST_TOKEN: secret(),
  /** Days each minute of metrics is kept. */
  METRICS_RETENTION_DAYS: int(7, 1, 90),
  /**
   * Seconds an isolate buffers its requests' metrics before one write (lib/metrics/buffer.ts); 0 writes
   * each request's at once. Under Workers' 30 s of `waitUntil`.
   */
  METRICS_FLUSH_SECONDS: int(5, 0, 20),
  /** Separates the metrics of gateways that share one Redis (say staging and production). */
  METRICS_NAMESPACE: z.preprocess(
    unset,
    z
      .string()
      .regex(/^[a-z0-9-]{1,32}$/, 'must be 1-32 lower-case letters, digits or dashes')
      .default('main'),
  ),
  /** Bearer token a Prometheus scraper may use for GET /metrics instead of the admin key; a secret. */
  METRICS_SCRAPE_TOKEN: z.preprocess(
    unset,
    z.string().trim().min(16, 'must be at least 16 characters').optional(),
  ),
  /** Monitoring alerts (cron): the rolling window they look at, in minutes. */
  MONITOR_WINDOW_MINUTES: int(15, 1, 1440),
  /** Monitoring alerts need at least this many upstream calls in the window, so one failure is not an alarm. */
  MONITOR_MIN_CALLS: int(20, 1, 1_000_000),
  /** Alert when the upstream success rate falls below this (0..1). */
  MONITOR_SUCCESS_RATE: num(0.995, 0, 1),
  /** Alert when the average upstream latency exceeds this. */
  MONITOR_LATENCY_MS: int(2000, 1, 600_000),
  /** Alert when the cache hit rate falls below this (0..1). */
  MONITOR_CACHE_HIT_RATE: num(0.7, 0, 1),
  /** Alert when more than this share (0..1) of moderated content is rejected. */
  MONITOR_REJECTION_RATE: num(0.2, 0, 1),
  /** Alert when a structured task's cached share of input tokens falls below this (0..1); 0 never. */
  MONITOR_CACHED_SHARE: num(0.5, 0, 1),
  /** Calls of one task the window needs before its cached share can alert. */
  MONITOR_CACHED_SHARE_MIN_CALLS: int(20, 1, 1_000_000),
  /** OpenAI-compatible proxy: the output cap reserved, and sent upstream, when a request names none. */
  PROXY_DEFAULT_MAX_OUTPUT_TOKENS: int(4096, 16, 1_000_000),
  /** OpenAI-compatible proxy: the largest output cap (`max_tokens`, …) a request may ask for. */
  PROXY_MAX_OUTPUT_TOKENS: int(32_768, 16, 1_000_000),
  /** OpenAI-compatible proxy: let clients store answers on the provider's organisation (`store: true`). */
  PROXY_ALLOW_STORE: bool(false),
  /** OpenAI-compatible proxy: the largest answer (JSON body or whole stream) kept in the cache. */
  PROXY_CACHE_MAX_BYTES: int(262_144, 0, 10 * 1_048_576),
  /** Seconds a stream the client cut is read on for its usage; waitUntil work ends ~30 s after. */
  PROXY_DRAIN_SECONDS: int(20, 0, 25),
  /** Per-request Redis timeout; shared state must never stall a request for long. */
  REDIS_TIMEOUT_MS: int(1000, 50, 30_000),
  /**
   * Once the isolate's Redis calls wait this long on average (their time less the store's own,
   * lib/store-load.ts), new requests are paced: each waits for a start time, in arrival order, before
   * any work (lib/admission.ts).
   */
  OVERLOAD_LATENCY_MS: int(200, 10, 30_000),
  /**
   * Requests added to those in flight within 100 ms (starts less answers) that count as a burst and are
   * paced even before the calls queue (or more, when the isolate has lately answered faster): new
   * connections all at once would otherwise send their Redis calls together. 0: only queueing starts
   * pacing.
   */
  OVERLOAD_BURST: int(64, 0, 100_000),
  /** The longest a paced request waits for its start; one still waiting then is shed (`503 overloaded`). */
  OVERLOAD_WAIT_MS: int(2000, 0, 30_000),
  /** Largest request body accepted, in bytes. */
  MAX_BODY_BYTES: int(1_048_576, 1024, 100 * 1_048_576),
  LOG_LEVEL: z.preprocess(unset, z.enum(['debug', 'info', 'warn', 'error']).default('info')),
  /** Debugging only: log every structured call's prompt and raw answer (secrets are still masked). */
  LOG_PROMPTS: bool(false),
});

/** The names of every setting, for tools that gather them from the environment (npm run dev). */
export const SETTING_NAMES = Object.keys(Settings.shape) as (keyof typeof Settings.shape)[];
