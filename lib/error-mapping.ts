import { HTTPException } from 'hono/http-exception';
import { ZodError } from 'zod';
import {
  AuthenticationError,
  GatewayError,
  type GatewayErrorInit,
  InternalError,
  InvalidRequestError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  RequestTooLargeError,
} from './errors';

const INTERNAL_MESSAGE = 'The gateway hit an unexpected error. Retry later, quoting the request id.';

const HTTP_EXCEPTION_ERRORS: Partial<Record<number, new (init: GatewayErrorInit) => GatewayError>> = {
  400: InvalidRequestError,
  401: AuthenticationError,
  403: PermissionDeniedError,
  404: NotFoundError,
  413: RequestTooLargeError,
  429: RateLimitError,
};

/**
 * Maps anything thrown to a GatewayError. Unknown errors become a 500 with a fixed message; the
 * caller logs the original, which never reaches the client.
 */
export function toGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  if (err instanceof ZodError) {
    const issue = err.issues[0];
    // An unknown field is at fault itself, not the object holding it.
    const path = issue?.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0] ?? ''] : issue?.path;
    const param = path?.length ? path.join('.') : undefined;
    return new InvalidRequestError({
      message: issue ? `${param ? `${param}: ` : ''}${issue.message}` : 'Invalid request.',
      param,
      cause: err,
    });
  }
  if (err instanceof HTTPException) {
    const ErrorClass = HTTP_EXCEPTION_ERRORS[err.status];
    if (ErrorClass) return new ErrorClass({ message: err.message || 'Invalid request.', cause: err });
  }
  return new InternalError({ message: INTERNAL_MESSAGE, cause: err });
}
