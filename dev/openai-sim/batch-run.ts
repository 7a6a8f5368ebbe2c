import type { BatchLine } from './batch-input.ts';
import { isRecord } from './config.ts';
import { errorBody, SimHttpError } from './errors.ts';
import type { Usage } from './meter.ts';
import type { RouteContext, SimRoute } from './routes.ts';
import type { BatchUsage, LineAnswer } from './storage.ts';

export const ZERO_USAGE: BatchUsage = {
  input_tokens: 0,
  input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
  output_tokens: 0,
  output_tokens_details: { reasoning_tokens: 0 },
  total_tokens: 0,
};

/**
 * Answers one batch line with the synchronous endpoint's own handler, as OpenAI runs each line as a normal
 * request: a 200 goes to the output file, a rejected request (4xx) or a failure (5xx) to the error file, both
 * as `{id, custom_id, response: {status_code, request_id, body}, error: null}`. Faults and latency apply to
 * the HTTP requests of the Files and Batch APIs, never to the lines a batch runs.
 */
export function runLine(line: BatchLine, ctx: RouteContext): LineAnswer {
  const route = lineRoute(ctx.routes, line.url);
  let status = 200;
  let body: unknown;
  let billed: Usage | undefined;
  try {
    if (!route) throw new SimHttpError(404, `Invalid URL (POST ${line.url})`);
    if (line.body.stream === true)
      throw new SimHttpError(400, 'Streaming is not supported in batch requests.', { param: 'stream' });
    const result = route.handle(line.body, ctx, line.url);
    if (result.kind !== 'json') throw new Error(`a batch line got a ${result.kind} answer`);
    body = result.body;
    billed = result.meter?.usage;
  } catch (error) {
    status = error instanceof SimHttpError ? error.status : 500;
    body =
      error instanceof SimHttpError
        ? error.toBody()
        : errorBody('The server had an error processing your request.', 'server_error');
  }
  const response = { status_code: status, request_id: ctx.newId('req_'), body };
  return {
    ok: status === 200,
    customId: line.customId,
    line: { id: ctx.newId('batch_req_'), custom_id: line.customId, response, error: null },
    usage: usageOf(body),
    ...(status === 200 && billed ? { billed } : {}),
  };
}

/** The route that answers a batch line for `url`: a POST with a JSON body at exactly that path. */
export function lineRoute(routes: readonly SimRoute[], url: string): SimRoute | undefined {
  return routes.find((r) => r.method === 'POST' && (r.body ?? 'json') === 'json' && r.matches(url));
}

/** The error-file line of a request a batch never ran (it expired first). */
export function expiredLine(line: BatchLine, ctx: RouteContext): Record<string, unknown> {
  return {
    id: ctx.newId('batch_req_'),
    custom_id: line.customId,
    response: null,
    error: {
      code: 'batch_expired',
      message: 'This request could not be executed before the completion window expired.',
    },
  };
}

/** Sums usages (BatchUsage). */
export function addUsage(a: BatchUsage, b: BatchUsage): BatchUsage {
  return {
    input_tokens: a.input_tokens + b.input_tokens,
    input_tokens_details: {
      cached_tokens: a.input_tokens_details.cached_tokens + b.input_tokens_details.cached_tokens,
      cache_write_tokens:
        a.input_tokens_details.cache_write_tokens + b.input_tokens_details.cache_write_tokens,
    },
    output_tokens: a.output_tokens + b.output_tokens,
    output_tokens_details: {
      reasoning_tokens: a.output_tokens_details.reasoning_tokens + b.output_tokens_details.reasoning_tokens,
    },
    total_tokens: a.total_tokens + b.total_tokens,
  };
}

/** A line's usage from its body: Responses, Chat Completions and Embeddings each name it differently. */
function usageOf(body: unknown): BatchUsage {
  const usage = isRecord(body) && isRecord(body.usage) ? body.usage : {};
  const count = (value: unknown) => (typeof value === 'number' ? value : 0);
  const detail = (value: unknown, key: string) => (isRecord(value) ? count(value[key]) : 0);
  const input = count(usage.input_tokens ?? usage.prompt_tokens);
  const output = count(usage.output_tokens ?? usage.completion_tokens);
  return {
    input_tokens: input,
    input_tokens_details: {
      cached_tokens: detail(usage.input_tokens_details ?? usage.prompt_tokens_details, 'cached_tokens'),
      cache_write_tokens: detail(
        usage.input_tokens_details ?? usage.prompt_tokens_details,
        'cache_write_tokens',
      ),
    },
    output_tokens: output,
    output_tokens_details: {
      reasoning_tokens: detail(
        usage.output_tokens_details ?? usage.completion_tokens_details,
        'reasoning_tokens',
      ),
    },
    total_tokens: input + output,
  };
}
