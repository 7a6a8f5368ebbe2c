import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import {
  CircuitOpenError,
  GatewayError,
  RateLimitError,
  UpstreamError,
  UpstreamTimeoutError,
} from '../errors';
import { exhaustedLimit, providerWaitFrom, retryAfterFrom } from './wait-headers';

/** How one failed provider call should be handled, and what the client sees if it is the last. */
export interface Failure {
  error: GatewayError;
  /** Another attempt at the same provider can succeed (429 rate limit, 408/409, 5xx, timeouts, drops). */
  retryable: boolean;
  /** The provider is unhealthy or unusable for us: counts toward its breaker, and a backup may serve. */
  providerFault: boolean;
  /**
   * What the provider asked us to wait: `retry-after-ms` or `retry-after`, and for a 429 without them
   * the `x-ratelimit-reset-*` headers.
   */
  retryAfterMs?: number;
  /**
   * A 429 rate_limit_exceeded: the provider is up and this account is over its limit, so it is no
   * verdict on the provider's health (no breaker failure), and every caller should wait `retryAfterMs`.
   */
  throttled?: true;
  /** For a 429: how long every caller of this provider and model should wait, when the account is spent. */
  sharedWaitMs?: number;
  /**
   * The provider may have run, and billed, the request although we have no usable answer: we stopped
   * waiting (a timeout), the connection broke, or its answer was unreadable or unusable. Another
   * attempt is a second bill, which needs a reservation of its own.
   */
  mayBeBilled?: true;
}

/** An upstream 4xx about the request itself, passed through with the provider's status, type and code. */
export class UpstreamRequestError extends GatewayError {
  override readonly status: 400 | 404 | 422;
  override readonly type: string;
  constructor(status: 400 | 404 | 422, type: string, code: string, message: string, param?: string) {
    super({ message, code, ...(param ? { param } : {}) });
    this.status = status;
    this.type = type;
  }
}

const REQUEST_STATUSES = new Set([400, 404, 422]);

/**
 * Classifies anything a provider call threw. Messages from the provider are passed on only for
 * request errors (they describe the request); for everything else the client gets a fixed text,
 * so a provider message that echoes our key can never reach it.
 */
export function classifyFailure(err: unknown, provider: string): Failure {
  if (err instanceof GatewayError) {
    // Our own checks on a provider's answer (no image data, too few embeddings) blame the provider.
    const providerFault = err instanceof UpstreamError;
    // It answered, and that answer is billed.
    return { error: err, retryable: providerFault, providerFault, ...(providerFault ? BILLED : {}) };
  }
  if (err instanceof APIUserAbortError) {
    return {
      error: new UpstreamTimeoutError({ message: `${provider} call was aborted.`, cause: err }),
      retryable: false,
      providerFault: false,
    };
  }
  if (err instanceof APIConnectionTimeoutError) {
    const error = new UpstreamTimeoutError({ message: `${provider} did not answer in time.`, cause: err });
    return { error, retryable: true, providerFault: true, ...BILLED };
  }
  if (err instanceof APIConnectionError) {
    // The request may have been sent before the connection broke (assume the costly case).
    const error = new UpstreamError({ message: `Could not reach ${provider}.`, cause: err });
    return { error, retryable: true, providerFault: true, ...BILLED };
  }
  if (err instanceof APIError && typeof err.status === 'number')
    return classifyStatus(err, err.status, provider);
  // A malformed body (SyntaxError) or a stream cut short: the provider misbehaved; another try can work.
  const error = new UpstreamError({ message: `${provider} returned an unreadable response.`, cause: err });
  return { error, retryable: true, providerFault: true, ...BILLED };
}

const BILLED = { mayBeBilled: true } as const;
/** What a client is told to wait when the provider's account has no credit left: someone must pay. */
const QUOTA_RETRY_AFTER_SECONDS = 60;

function classifyStatus(err: APIError, status: number, provider: string): Failure {
  const retryAfterMs = retryAfterFrom(err.headers);
  const withWait = retryAfterMs === undefined ? {} : { retryAfterMs };
  if (REQUEST_STATUSES.has(status)) {
    const error = new UpstreamRequestError(
      status as 400 | 404 | 422,
      err.type ?? 'invalid_request_error',
      err.code ?? 'upstream_rejected',
      stripStatus(err.message),
      err.param ?? undefined,
    );
    return { error, retryable: false, providerFault: false };
  }
  if (status === 429 && (err.code === 'insufficient_quota' || err.type === 'insufficient_quota')) {
    // Billing, not load: every retry fails the same way, so it is an outage (a backup may serve).
    const error = new CircuitOpenError({
      message: `${provider} quota is exhausted.`,
      retryAfter: QUOTA_RETRY_AFTER_SECONDS,
      cause: err,
    });
    return { error, retryable: false, providerFault: true };
  }
  if (status === 429 && /request too large/i.test(err.message)) {
    // Larger than the account's whole per-minute token limit: no wait will let it through.
    const error = new RateLimitError({
      message: `The request is larger than ${provider}'s per-minute token limit for this model; reduce its input or output cap.`,
      code: 'upstream_request_too_large',
      cause: err,
    });
    return { error, retryable: false, providerFault: true, throttled: true };
  }
  if (status === 429) {
    const waitMs = providerWaitFrom(err.headers);
    const error = new RateLimitError({
      message: `${provider} is rate limiting the gateway; retry later.`,
      code: 'upstream_rate_limited',
      retryAfter: waitMs === undefined ? 1 : Math.max(1, Math.ceil(waitMs / 1000)),
      cause: err,
    });
    // Every caller waits only when the account is spent for everyone: a limit read as 0, or the
    // provider's own retry-after. A large request short of tokens says nothing about small ones.
    const shared = retryAfterFrom(err.headers) !== undefined || exhaustedLimit(err.headers);
    return {
      error,
      retryable: true,
      providerFault: true,
      throttled: true,
      ...(waitMs === undefined ? {} : { retryAfterMs: waitMs }),
      ...(waitMs !== undefined && shared ? { sharedWaitMs: waitMs } : {}),
    };
  }
  if (status === 401 || status === 403) {
    // The failing credential is ours, not the client's.
    const error = new UpstreamError({
      message: `${provider} rejected the gateway's credentials.`,
      cause: err,
    });
    return { error, retryable: false, providerFault: true };
  }
  const retryable = status === 408 || status === 409 || status >= 500;
  const error = new UpstreamError({ message: `${provider} failed with status ${status}.`, cause: err });
  return { error, retryable, providerFault: retryable, ...withWait };
}

/** The SDK prefixes messages with the status ("400 Invalid schema"); the body shape already says it. */
function stripStatus(message: string): string {
  return message.replace(/^\d{3}\s+/, '');
}
