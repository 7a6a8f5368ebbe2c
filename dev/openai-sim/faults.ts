import type { SimFault, SimFaultKind } from './config.ts';
import { errorBody, type OpenAIErrorBody } from './errors.ts';
import { formatDuration } from './ratelimit-headers.ts';

/** Faults that change the generated content rather than the transport; only some endpoints support them. */
export const CONTENT_FAULTS: readonly SimFaultKind[] = ['schema_violation', 'refusal'];

/**
 * The first fault that targets `endpoint`, is supported there, and wins its `rate` roll. `random` is the only
 * place the simulator uses randomness.
 */
export function pickFault(
  faults: readonly SimFault[],
  endpoint: string,
  supports: (kind: SimFaultKind) => boolean,
  random: () => number = Math.random,
): SimFault | undefined {
  return faults.find((fault) => {
    if (fault.endpoint !== undefined && fault.endpoint !== endpoint) return false;
    if (!supports(fault.kind)) return false;
    return random() < (fault.rate ?? 1);
  });
}

/** What a `status` fault sends. */
export interface StatusFaultResponse {
  status: number;
  headers: Record<string, string>;
  body: OpenAIErrorBody;
}

/** The error response for a `status` fault, with OpenAI's wording and error types. */
export function statusFaultResponse(fault: SimFault): StatusFaultResponse {
  const status = fault.status ?? 500;
  const headers: Record<string, string> = {};
  if (fault.retry_after_s !== undefined) {
    headers['retry-after'] = String(Math.ceil(fault.retry_after_s));
    headers['retry-after-ms'] = String(Math.round(fault.retry_after_s * 1000));
  }
  const { message, type, code } = describeStatus(status, fault.code);
  if (status === 429 && code === 'rate_limit_exceeded') {
    // Like a real rate-limit 429: the request limit is spent until the reset its headers name (the
    // retry-after when one is sent, else a second), whether or not retry-after is there.
    headers['x-ratelimit-remaining-requests'] = '0';
    headers['x-ratelimit-reset-requests'] = formatDuration((fault.retry_after_s ?? 1) * 1000);
  }
  return { status, headers, body: errorBody(`${message} (simulated fault)`, type, null, code) };
}

interface StatusError {
  message: string;
  type: string;
  code: string | null;
}

const QUOTA_ERROR: StatusError = {
  message: 'You exceeded your current quota, please check your plan and billing details.',
  type: 'insufficient_quota',
  code: 'insufficient_quota',
};

const SERVER_ERROR: StatusError = {
  message: 'The server had an error while processing your request. Sorry about that!',
  type: 'server_error',
  code: null,
};

/** OpenAI's wording per status; unlisted 5xx use SERVER_ERROR, other statuses a generic message. */
const STATUS_ERRORS: Record<number, StatusError> = {
  401: { message: 'Incorrect API key provided.', type: 'invalid_request_error', code: 'invalid_api_key' },
  403: {
    message: 'You are not allowed to sample from this model.',
    type: 'invalid_request_error',
    code: null,
  },
  404: {
    message: 'The model does not exist or you do not have access to it.',
    type: 'invalid_request_error',
    code: 'model_not_found',
  },
  429: {
    message: 'Rate limit reached for requests. Please try again later.',
    type: 'rate_limit_exceeded',
    code: 'rate_limit_exceeded',
  },
  503: {
    message: 'The engine is currently overloaded, please try again later.',
    type: 'server_error',
    code: null,
  },
};

function describeStatus(status: number, code: string | undefined): StatusError {
  if (status === 429 && code === 'insufficient_quota') return QUOTA_ERROR;
  const known =
    STATUS_ERRORS[status] ??
    (status >= 500
      ? SERVER_ERROR
      : { message: `Simulated HTTP ${status}.`, type: 'invalid_request_error', code: null });
  return { ...known, code: code ?? known.code };
}
