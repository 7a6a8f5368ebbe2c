/**
 * The gateway's own events on a proxied stream: the final error event when a stream fails after its
 * first byte, in the shape the OpenAI SDKs turn into an `APIError` (chat: `data: {"error": …}`;
 * responses: an `error` event whose `error` is our body and whose top level is OpenAI's
 * `ResponseErrorEvent`).
 */
import { type GatewayError, toErrorBody } from '../errors';
import type { StreamApi } from './sse-events';

/** The SSE error event for `api`, with the request id in the body like every error response. */
export function errorEvent(api: StreamApi, error: GatewayError, requestId: string): string {
  const body = toErrorBody(error, requestId);
  if (api === 'chat') return `data: ${JSON.stringify(body)}\n\n`;
  const event = {
    type: 'error',
    code: body.error.code,
    message: body.error.message,
    param: body.error.param ?? null,
    ...body,
  };
  return `event: error\ndata: ${JSON.stringify(event)}\n\n`;
}
