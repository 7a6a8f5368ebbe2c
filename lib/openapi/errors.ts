/**
 * The failures a route documents: its own, plus those its auth and inputs imply, each status with the
 * one error body of lib/errors.ts and Markdown bullets naming the codes.
 */
import { z } from 'zod';
import type { ErrorBody } from '../errors';
import { scopeOfPath } from '../key-policy';
import type { RouteDoc } from './route-doc';

/** The one error body (lib/errors.ts), as the document's `Error` component. */
export const ErrorResponse = z.object({
  error: z.object({
    type: z.string(),
    code: z.string(),
    message: z.string(),
    /** The field at fault, when one is. */
    param: z.string().optional(),
    details: z.record(z.string(), z.unknown()).optional(),
    request_id: z.string(),
  }),
}) satisfies z.ZodType<ErrorBody>;

const ERROR_SUMMARY: Record<number, string> = {
  400: 'Bad request',
  401: 'No valid key',
  403: 'Forbidden',
  404: 'Not found',
  413: 'Body too large',
  415: 'Unsupported media type',
  409: 'Conflict',
  422: 'Unprocessable',
  429: 'Too many requests or over budget',
  500: 'Gateway error',
  502: 'Upstream error',
  503: 'Unavailable',
  504: 'Upstream timeout',
};

/** The failures `route` can answer with: its own, plus those its auth and inputs imply. */
function failuresOf(route: RouteDoc): Record<number, string[]> {
  const failures: Record<number, string[]> = {};
  const add = (status: number, ...lines: string[]) => {
    failures[status] = [...(failures[status] ?? []), ...lines];
  };
  if (route.params || route.query || route.body) {
    add(400, '`invalid_request`: the request failed validation; `param` names the field.');
  }
  if (route.body) add(413, '`request_too_large`: the body exceeds `MAX_BODY_BYTES`.');
  if (route.auth !== 'none') {
    add(401, '`invalid_api_key`: no key, or an unknown, malformed or revoked one.');
    add(503, '`store_unavailable`: Redis, where keys live, cannot be reached.');
  }
  if (route.auth === 'key') add(429, '`rate_limit_exceeded`: the key is over its requests per minute.');
  const scope = scopeOfPath(route.path);
  if (route.auth === 'key' && scope) {
    add(403, `\`scope_not_allowed\`: the key lacks the \`${scope}\` scope (docs/keys.md).`);
    if (scope === 'proxy' && route.method === 'post') {
      add(403, "`model_not_allowed`: the model is not on the key's allow-list.");
    }
  }
  if (route.auth === 'admin') add(403, '`permission_denied`: a client key on an admin route.');
  for (const [status, lines] of Object.entries(route.errors ?? {})) add(Number(status), ...lines);
  add(500, '`internal_error` or `misconfigured`: quote the `request_id`.');
  return failures;
}

/** The error responses of `route`, status → OpenAPI response object. */
export function errorResponsesOf(route: RouteDoc) {
  return Object.fromEntries(
    Object.entries(failuresOf(route)).map(([status, lines]) => [
      status,
      {
        description: `${ERROR_SUMMARY[Number(status)] ?? 'Error'}\n\n${lines.map((l) => `- ${l}`).join('\n')}`,
        headers: {
          'x-request-id': { $ref: '#/components/headers/RequestId' },
          ...(status === '429' || status === '503'
            ? { 'retry-after': { $ref: '#/components/headers/RetryAfter' } }
            : {}),
        },
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      },
    ]),
  );
}
