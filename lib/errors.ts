import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Usage } from './providers/usage';

/** The one error body every endpoint returns, shaped like OpenAI's so SDK error classes work. */
export interface ErrorBody {
  error: {
    type: string;
    code: string;
    message: string;
    param?: string;
    /** Structured facts about the failure, e.g. a moderation verdict's layer and categories. */
    details?: Record<string, unknown>;
    request_id: string;
  };
}

export interface GatewayErrorInit {
  message: string;
  code?: string;
  param?: string;
  /** Seconds until a retry can succeed; sent as `Retry-After`. */
  retryAfter?: number;
  /** Safe, structured facts for the client, rendered as `error.details`. */
  details?: Record<string, unknown>;
  cause?: unknown;
}

/** Base of every error the gateway means to show a client. Its message is safe to return as is. */
export class GatewayError extends Error {
  /** The `code` when the thrower gives none. A static, because a subclass field would overwrite `init.code`. */
  static readonly defaultCode: string = 'internal_error';
  readonly status: ContentfulStatusCode = 500;
  readonly type: string = 'api_error';
  readonly code: string;
  readonly param: string | undefined;
  readonly retryAfter: number | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(init: GatewayErrorInit) {
    super(init.message, { cause: init.cause });
    // The bundle keeps no names (wrangler.toml `keep_names = false`), so esbuild tells a class apart
    // from the SDK's of the same name with a digit (`RateLimitError2`); the logs show ours plain.
    this.name = new.target.name.replace(/\d+$/, '');
    this.code = init.code ?? (new.target as typeof GatewayError).defaultCode;
    this.param = init.param;
    this.retryAfter = init.retryAfter;
    this.details = init.details;
  }
}

export class InvalidRequestError extends GatewayError {
  override readonly status = 400;
  override readonly type = 'invalid_request_error';
  static override readonly defaultCode = 'invalid_request';
}
export class AuthenticationError extends GatewayError {
  override readonly status = 401;
  override readonly type = 'authentication_error';
  static override readonly defaultCode = 'invalid_api_key';
}
export class PermissionDeniedError extends GatewayError {
  override readonly status = 403;
  override readonly type = 'permission_error';
  static override readonly defaultCode = 'permission_denied';
}
export class NotFoundError extends GatewayError {
  override readonly status = 404;
  override readonly type = 'not_found_error';
  static override readonly defaultCode = 'not_found';
}
/** The request conflicts with the resource's state, e.g. cancelling a job that has finished. */
export class ConflictError extends GatewayError {
  override readonly status = 409;
  override readonly type = 'invalid_request_error';
  static override readonly defaultCode = 'conflict';
}

export class RequestTooLargeError extends GatewayError {
  override readonly status = 413;
  override readonly type = 'invalid_request_error';
  static override readonly defaultCode = 'request_too_large';
}
/** The body (or a resource it names, such as an image) is of a type the route does not take. */
export class UnsupportedMediaTypeError extends GatewayError {
  override readonly status = 415;
  override readonly type = 'invalid_request_error';
  static override readonly defaultCode = 'unsupported_media_type';
}
/** The request is well formed, but what it names cannot be used, e.g. bytes that are no image. */
export class UnprocessableError extends GatewayError {
  override readonly status = 422;
  override readonly type = 'invalid_request_error';
  static override readonly defaultCode = 'unprocessable';
}
export class RateLimitError extends GatewayError {
  override readonly status = 429;
  override readonly type = 'rate_limit_error';
  static override readonly defaultCode = 'rate_limit_exceeded';
}
export class BudgetExceededError extends GatewayError {
  override readonly status = 429;
  override readonly type = 'insufficient_quota';
  static override readonly defaultCode = 'budget_exceeded';
}
/** A client's input was flagged by moderation. */
export class ContentBlockedError extends GatewayError {
  override readonly status = 400;
  override readonly type = 'invalid_request_error';
  static override readonly defaultCode = 'content_policy_violation';
}
/** Generated content failed moderation; it is never returned. */
export class CreativeRejectedError extends GatewayError {
  override readonly status = 422;
  override readonly type = 'invalid_request_error';
  static override readonly defaultCode = 'creative_rejected';
}
export class UpstreamError extends GatewayError {
  override readonly status = 502;
  static override readonly defaultCode = 'upstream_error';
}
/** The model's output stayed invalid after a repair attempt; it is never returned. */
export class InvalidModelOutputError extends GatewayError {
  override readonly status = 502;
  static override readonly defaultCode = 'invalid_model_output';
  /** What the failed calls were billed: the budget settles it although the client gets nothing. */
  readonly usage: Usage | undefined;
  constructor(init: GatewayErrorInit & { usage?: Usage }) {
    super(init);
    this.usage = init.usage;
  }
}
const BILLED = Symbol('mayBeBilled');

/**
 * Marks `error` as ending a call the provider may still have run and billed (it accepted the request;
 * we did not get its answer): the budget charges it in full. Returns `error`.
 */
export function markMayBeBilled<E extends object>(error: E): E {
  Object.defineProperty(error, BILLED, { value: true });
  return error;
}

/** Whether `err` ended a call the provider may have billed: a timeout, or one marked so. */
export function mayBeBilled(err: unknown): boolean {
  return err instanceof UpstreamTimeoutError || (typeof err === 'object' && err !== null && BILLED in err);
}

export class UpstreamTimeoutError extends GatewayError {
  override readonly status = 504;
  static override readonly defaultCode = 'upstream_timeout';
}
export class CircuitOpenError extends GatewayError {
  override readonly status = 503;
  static override readonly defaultCode = 'provider_unavailable';
}
/** Shared state (Redis) cannot be reached and the operation must not proceed without it. */
export class StoreUnavailableError extends GatewayError {
  override readonly status = 503;
  static override readonly defaultCode = 'store_unavailable';
}
/**
 * The image bucket (R2) failed a read or a write twice in a row (lib/image-store.ts): retryable, and
 * never a 500, since neither the client nor the gateway's code is at fault.
 */
export class ImageStoreUnavailableError extends GatewayError {
  override readonly status = 503;
  static override readonly defaultCode = 'image_store_unavailable';
}
/** The isolate has more work than it can serve in time: shed at once, before any Redis call. */
export class OverloadedError extends GatewayError {
  override readonly status = 503;
  static override readonly defaultCode = 'overloaded';
}
export class MisconfiguredError extends GatewayError {
  static override readonly defaultCode = 'misconfigured';
}
export class InternalError extends GatewayError {}

/** The fields of the error body, without the request id: what a batch or job item's error carries. */
export type ItemError = Omit<ErrorBody['error'], 'request_id'>;

export function itemErrorOf(err: GatewayError): ItemError {
  return {
    type: err.type,
    code: err.code,
    message: err.message,
    ...(err.param ? { param: err.param } : {}),
    ...(err.details ? { details: err.details } : {}),
  };
}

/** Renders the error body; `param` appears only when a field is at fault. */
export function toErrorBody(err: GatewayError, requestId: string): ErrorBody {
  return { error: { ...itemErrorOf(err), request_id: requestId } };
}
