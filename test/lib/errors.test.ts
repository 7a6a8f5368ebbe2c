import { describe, expect, it } from 'vitest';
import {
  BudgetExceededError,
  CircuitOpenError,
  InvalidRequestError,
  RateLimitError,
  toErrorBody,
} from '../../lib/errors';

describe('GatewayError', () => {
  it('takes its default code from the class and keeps a code the thrower gives', () => {
    expect(new RateLimitError({ message: 'x' }).code).toBe('rate_limit_exceeded');
    expect(new RateLimitError({ message: 'x', code: 'upstream_rate_limited' }).code).toBe(
      'upstream_rate_limited',
    );
    expect(new BudgetExceededError({ message: 'x' })).toMatchObject({
      status: 429,
      type: 'insufficient_quota',
      code: 'budget_exceeded',
    });
    expect(new CircuitOpenError({ message: 'x', retryAfter: 3 })).toMatchObject({
      status: 503,
      code: 'provider_unavailable',
      retryAfter: 3,
      name: 'CircuitOpenError',
    });
  });

  it('renders param only when a field is at fault', () => {
    expect(toErrorBody(new InvalidRequestError({ message: 'm' }), 'req_1')).toEqual({
      error: { type: 'invalid_request_error', code: 'invalid_request', message: 'm', request_id: 'req_1' },
    });
    expect(toErrorBody(new InvalidRequestError({ message: 'm', param: 'intent' }), 'req_1').error.param).toBe(
      'intent',
    );
  });
});
