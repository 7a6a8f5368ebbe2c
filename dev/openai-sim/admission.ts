import { limitsFor } from './account-config.ts';
import type { SimConfig } from './config.ts';
import { errorBody, type OpenAIErrorBody } from './errors.ts';
import { type Invoice, PICO_PER_USD } from './invoice.ts';
import { isRealistic, timeScaleOf } from './profile.ts';
import type { LimitDecision, LimitView, RateLimiter } from './rate-limiter.ts';
import { formatDuration, rateLimitHeaders } from './ratelimit-headers.ts';
import { isRateLimited, requestedTokens } from './requested-tokens.ts';
import { createRng, hashOf } from './rng.ts';

/**
 * Whether an account (an API key) may make a model call, checked before anything is generated, as OpenAI's
 * front door does:
 * 1. Quota: once the key's invoice reaches the config's `account_budget_usd`, every billable call (all model
 *    calls but the free moderations) is a 429 `insufficient_quota`, without `retry-after`: waiting does not
 *    help.
 * 2. Rate limits per key and model (rate-limiter.ts), enforced on the realistic profile and on any profile
 *    whose config sets `rate_limits`: a call over a limit is a 429 `rate_limit_exceeded` in OpenAI's words,
 *    whose `x-ratelimit-reset-*` name when it fits; on a fraction of them (seeded by the request's content,
 *    about half) `retry-after` and `retry-after-ms` are left out, as OpenAI often leaves them out.
 * A refusal is answered at once, generates nothing and is not billed. Admitted calls get `x-ratelimit-*`
 * headers from the same limiter, enforced or not.
 */
export interface Admission {
  /** The `x-ratelimit-*` headers of a rate-limited endpoint (none for files, batches, models). */
  headers: Record<string, string>;
  refusal?: Refusal;
}

/** A 429 the account gets instead of an answer. */
export interface Refusal {
  code: 'rate_limit_exceeded' | 'insufficient_quota';
  body: OpenAIErrorBody;
  /** `retry-after` and `retry-after-ms` when this refusal carries them. */
  headers: Record<string, string>;
  /** The wait the refusal names (its longest `x-ratelimit-reset-*`); Infinity for a quota or a too-large call. */
  waitMs: number;
}

/** One model call as admission sees it. */
export interface AdmissionRequest {
  apiKey: string;
  endpoint: string;
  model: string;
  body: Record<string, unknown>;
  config: SimConfig;
  /** Now on the scope's clock (`clock_offset_ms` included). */
  nowMs: number;
}

const MINUTE_MS = 60_000;
/** The share of rate-limit 429s sent without `retry-after`. */
const RETRY_AFTER_ABSENT_SHARE = 0.5;
/** Endpoints whose calls cost money, and so stop when the quota is spent. */
const BILLABLE = new Set([
  '/v1/responses',
  '/v1/chat/completions',
  '/v1/images/generations',
  '/v1/embeddings',
]);

const QUOTA_MESSAGE =
  'You exceeded your current quota, please check your plan and billing details. For more information on ' +
  'this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.';
const QUOTA_BODY = errorBody(QUOTA_MESSAGE, 'insufficient_quota', null, 'insufficient_quota');
const LIMITS_LINK = 'Visit https://platform.openai.com/account/rate-limits to learn more.';

/** Admits `request` or refuses it, counting it against the key's limits only when admitted. */
export function admit(
  request: AdmissionRequest,
  deps: { limiter: RateLimiter; invoice: Invoice },
): Admission {
  if (!isRateLimited(request.endpoint)) return { headers: {} };
  const { config } = request;
  // A spent account is refused before the limiter sees the call, so it counts nothing there.
  if (quotaSpent(request, deps.invoice)) {
    return {
      headers: {},
      refusal: {
        code: 'insufficient_quota',
        body: QUOTA_BODY,
        headers: {},
        waitMs: Number.POSITIVE_INFINITY,
      },
    };
  }
  const limits = limitsFor(config.rate_limits, request.model);
  const decision = deps.limiter.take(
    request.apiKey,
    request.model,
    {
      tokens: requestedTokens(request.endpoint, request.body),
      nowMs: request.nowMs,
      enforce: isRealistic(config) || config.rate_limits !== undefined,
    },
    { ...limits, windowMs: MINUTE_MS * timeScaleOf(config) },
  );
  return { headers: rateLimitHeaders(decision), refusal: rateLimitRefusal(request, decision) };
}

/** Whether the key's invoice has reached its account budget, for a call that would be billed. */
function quotaSpent(request: AdmissionRequest, invoice: Invoice): boolean {
  const budgetUsd = request.config.account_budget_usd;
  if (budgetUsd === undefined || !BILLABLE.has(request.endpoint)) return false;
  return invoice.totalPico(request.apiKey) >= BigInt(Math.round(budgetUsd * PICO_PER_USD));
}

function rateLimitRefusal(request: AdmissionRequest, decision: LimitDecision): Refusal | undefined {
  if (decision.allowed) return undefined;
  const on = decision.requests.waitMs > 0 ? 'requests' : 'tokens';
  const waitMs = Math.max(decision.requests.waitMs, decision.tokens.waitMs);
  const message = rateLimitMessage(request.model, orgOf(request.apiKey), on, decision[on]);
  const body = errorBody(message, on, null, 'rate_limit_exceeded');
  return { code: 'rate_limit_exceeded', body, headers: retryAfter(request, waitMs), waitMs };
}

/** OpenAI's wording, e.g. "Rate limit reached for gpt-4o in organization org-… on tokens per min (TPM): …". */
function rateLimitMessage(model: string, org: string, on: 'requests' | 'tokens', view: LimitView): string {
  const unit = on === 'requests' ? 'requests per min (RPM)' : 'tokens per min (TPM)';
  if (!Number.isFinite(view.waitMs)) {
    return (
      `Request too large for ${model} in organization ${org} on ${unit}: Limit ${view.limit}, ` +
      `Requested ${view.requested}. The input or output tokens must be reduced in order to run ` +
      `successfully. ${LIMITS_LINK}`
    );
  }
  return (
    `Rate limit reached for ${model} in organization ${org} on ${unit}: Limit ${view.limit}, ` +
    `Used ${Math.ceil(view.used - 1e-6)}, Requested ${view.requested}. ` +
    `Please try again in ${formatDuration(view.waitMs)}. ${LIMITS_LINK}`
  );
}

/**
 * `retry-after` (whole seconds, rounded up) and `retry-after-ms` for the wait, or neither: left out on
 * RETRY_AFTER_ABSENT_SHARE of requests, picked by their content so a given request always gets the same.
 * A request too large to ever fit gets neither.
 */
function retryAfter(request: AdmissionRequest, waitMs: number): Record<string, string> {
  if (!Number.isFinite(waitMs)) return {};
  const roll = createRng(`retry-after:${hashOf(request.endpoint, request.model, request.body)}`).next();
  if (roll < RETRY_AFTER_ABSENT_SHARE) return {};
  const ms = Math.ceil(waitMs);
  return { 'retry-after': String(Math.ceil(ms / 1000)), 'retry-after-ms': String(ms) };
}

/** A stable organisation id per key, shaped like OpenAI's (`org-` and 24 characters). */
function orgOf(apiKey: string): string {
  return `org-${hashOf('org', apiKey).slice(0, 24)}`;
}
