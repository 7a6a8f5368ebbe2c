import { parseBatchInput } from './batch-input.ts';
import { lineRoute, runLine } from './batch-run.ts';
import { batchObject, hasEnded } from './batch-state.ts';
import { isRecord } from './config.ts';
import { invalidParam, missingParam, SimHttpError } from './errors.ts';
import { findFile } from './files.ts';
import { exactPath, idPath, type RouteContext, type RouteResult, type SimRoute } from './routes.ts';
import type { SimBatch } from './storage.ts';

/** The endpoints BatchCreateParams allows; the simulator runs those it has a handler for. */
const BATCH_ENDPOINTS = [
  '/v1/responses',
  '/v1/chat/completions',
  '/v1/embeddings',
  '/v1/completions',
  '/v1/moderations',
  '/v1/images/generations',
  '/v1/images/edits',
  '/v1/videos',
];

const oneBatch = idPath('/v1/batches/');
const cancelPath = idPath('/v1/batches/', '/cancel');

/**
 * `POST /v1/batches`: checks the parameters at once (400), then answers `validating`; the input file's lines
 * are validated as OpenAI does while validating, and a batch with invalid lines is `failed` at the next look,
 * its errors in `errors.data`. Otherwise every line is answered now, by the endpoint's own handler, and time
 * (config `batch.duration_ms`) reveals the answers; see batch-state.ts.
 */
export const createBatchRoute: SimRoute = {
  method: 'POST',
  endpoint: '/v1/batches',
  matches: exactPath('/v1/batches'),
  handle(body, ctx): RouteResult {
    const inputFileId = requiredString(body, 'input_file_id');
    const endpoint = requiredString(body, 'endpoint');
    if (!BATCH_ENDPOINTS.includes(endpoint)) {
      throw invalidParam('endpoint', `Invalid 'endpoint': expected one of ${BATCH_ENDPOINTS.join(', ')}.`);
    }
    if (!lineRoute(ctx.routes, endpoint)) {
      throw invalidParam('endpoint', `The simulator cannot run batches for ${endpoint}.`);
    }
    if (requiredString(body, 'completion_window') !== '24h') {
      throw invalidParam('completion_window', "Invalid 'completion_window': only '24h' is supported.");
    }
    const metadata = parseMetadata(body.metadata);
    checkOutputExpiry(body.output_expires_after);
    const file = findFile(ctx, inputFileId);
    if (file.purpose !== 'batch') {
      throw invalidParam('input_file_id', `File ${inputFileId} was not uploaded with purpose 'batch'.`);
    }
    const input = parseBatchInput(file.data.toString('utf8'), endpoint);
    const outcome = ctx.config.batch?.outcome ?? 'completed';
    const lines = input.ok ? input.lines : [];
    const lineCtx: RouteContext = { ...ctx, contentFault: undefined };
    const batch: SimBatch = {
      id: ctx.newId('batch_'),
      apiKey: ctx.apiKey,
      endpoint,
      inputFileId,
      completionWindow: '24h',
      metadata,
      model: input.ok ? input.model : null,
      createdMs: ctx.nowMs,
      durationMs: ctx.config.batch?.duration_ms ?? 0,
      outcome,
      lines,
      answers: outcome === 'failed' ? [] : lines.map((line) => runLine(line, lineCtx)),
      errors: input.ok ? null : input.errors,
      cancellingMs: null,
      final: null,
    };
    ctx.storage.batches.set(batch.id, batch);
    return { kind: 'json', body: batchObject(batch, ctx, 'validating') };
  },
};

/** `GET /v1/batches/{batch_id}`. */
export const retrieveBatchRoute: SimRoute = {
  method: 'GET',
  endpoint: '/v1/batches/{batch_id}',
  matches: oneBatch.matches,
  handle: (_body, ctx, path) => ({
    kind: 'json',
    body: batchObject(findBatch(ctx, oneBatch.idOf(path)), ctx),
  }),
};

/**
 * `POST /v1/batches/{batch_id}/cancel`: `cancelling` at once, `cancelled` at the next look, keeping the lines
 * finished by now. Cancelling a cancelled batch answers it again; one that completed, failed or expired is a
 * 409, since there is nothing left to stop.
 */
export const cancelBatchRoute: SimRoute = {
  method: 'POST',
  endpoint: '/v1/batches/{batch_id}/cancel',
  matches: cancelPath.matches,
  body: 'none',
  handle(_body, ctx, path): RouteResult {
    const batch = findBatch(ctx, cancelPath.idOf(path));
    if (hasEnded(batch, ctx)) {
      const status = batch.final?.status;
      if (status === 'cancelled') return { kind: 'json', body: batchObject(batch, ctx) };
      throw new SimHttpError(409, `Cannot cancel a batch with status '${status}'.`, {
        code: 'invalid_state',
      });
    }
    batch.cancellingMs = ctx.nowMs;
    return { kind: 'json', body: batchObject(batch, ctx, 'cancelling') };
  },
};

/** `GET /v1/batches`: newest first, cursor-paginated with `after` and `limit` (1-100, default 20). */
export const listBatchesRoute: SimRoute = {
  method: 'GET',
  endpoint: '/v1/batches',
  matches: exactPath('/v1/batches'),
  handle(_body, ctx): RouteResult {
    const limit = Number(ctx.query.get('limit') ?? 20);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      throw invalidParam('limit', "Invalid 'limit': expected an integer from 1 to 100.");
    }
    const newestFirst = [...ctx.storage.batches.values()].reverse();
    const after = ctx.query.get('after');
    const start = after ? newestFirst.findIndex((b) => b.id === after) + 1 : 0;
    const page = newestFirst.slice(start, start + limit);
    const data = page.map((batch) => batchObject(batch, ctx));
    return {
      kind: 'json',
      body: {
        object: 'list',
        data,
        first_id: data[0]?.id ?? null,
        last_id: data.at(-1)?.id ?? null,
        has_more: start + limit < newestFirst.length,
      },
    };
  },
};

function findBatch(ctx: RouteContext, id: string): SimBatch {
  const batch = ctx.storage.batches.get(id);
  if (!batch) throw new SimHttpError(404, `No such Batch object: ${id}`, { param: 'batch_id' });
  return batch;
}

function requiredString(body: Record<string, unknown>, param: string): string {
  const value = body[param];
  if (value === undefined || value === null) throw missingParam(param);
  if (typeof value !== 'string' || !value)
    throw invalidParam(param, `Invalid '${param}': expected a string.`);
  return value;
}

/** At most 16 pairs; keys up to 64 characters, values strings up to 512 (Shared.Metadata). */
function parseMetadata(value: unknown): Record<string, string> | null {
  if (value === undefined || value === null) return null;
  const valid =
    isRecord(value) &&
    Object.keys(value).length <= 16 &&
    Object.entries(value).every(([k, v]) => k.length <= 64 && typeof v === 'string' && v.length <= 512);
  if (!valid) {
    throw invalidParam(
      'metadata',
      "Invalid 'metadata': at most 16 pairs, keys up to 64 characters, string values up to 512.",
    );
  }
  return { ...(value as Record<string, string>) };
}

function checkOutputExpiry(value: unknown): void {
  if (value === undefined || value === null) return;
  const ok =
    isRecord(value) &&
    value.anchor === 'created_at' &&
    Number.isInteger(value.seconds) &&
    (value.seconds as number) >= 3600 &&
    (value.seconds as number) <= 2_592_000;
  if (!ok) {
    throw invalidParam(
      'output_expires_after',
      "Invalid 'output_expires_after': expected { anchor: 'created_at', seconds: 3600-2592000 }.",
    );
  }
}
