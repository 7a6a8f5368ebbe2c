/**
 * The one error response: authentication before any other answer (a client error raised before its
 * caller was admitted is shown only to a known caller), then the error body with its headers, logged
 * at the level it deserves.
 */
import type { Context } from 'hono';
import type { AppEnv } from './app-env';
import { toGatewayError } from './error-mapping';
import { type GatewayError, toErrorBody } from './errors';
import type { Logger } from './log';
import type { Principal } from './principal';

const NOT_ABOUT_THE_REQUEST = new Set([401, 403, 429]);

/**
 * Authentication before any other answer: a client error (a bad body, an unknown model or variant)
 * raised before the caller was admitted is reported only once its key is known good; an unknown key
 * gets 401 whatever the body, and learns nothing of the gateway's models or variants.
 */
export async function callerFirst(
  c: Context<AppEnv>,
  err: unknown,
  verifyCaller: ((c: Context<AppEnv>) => Promise<void>) | undefined,
): Promise<unknown> {
  const { status } = toGatewayError(err);
  const admitted = (c.var as { principal?: Principal }).principal !== undefined;
  if (!verifyCaller || admitted || status < 400 || status >= 500 || NOT_ABOUT_THE_REQUEST.has(status))
    return err;
  try {
    await verifyCaller(c);
    return err;
  } catch (authError) {
    return authError;
  }
}

/** Logs a failure at the level it deserves and renders the one error body with its headers. */
export function renderError(c: Context<AppEnv>, err: unknown): Response {
  const error = toGatewayError(err);
  c.set('errorCode', error.code);
  logFailure(c.get('log'), error, err);
  const headers: Record<string, string> = { 'x-request-id': c.get('requestId') };
  if (error.retryAfter !== undefined) headers['retry-after'] = String(Math.ceil(error.retryAfter));
  return c.json(toErrorBody(error, c.get('requestId')), error.status, headers);
}

function logFailure(log: Logger, error: GatewayError, original: unknown): void {
  if (error.status < 500) {
    log.info('request rejected', { status: error.status, code: error.code });
    return;
  }
  const cause = original === error ? error.cause : original;
  log.error('request failed', { status: error.status, code: error.code, cause });
}
