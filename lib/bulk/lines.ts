/**
 * Reads the lines of a finished batch's output and error files. Lines come in any order, so they are
 * matched on `custom_id`. A 200 line yields the model's text (or the reason it has none: a refusal, a cut-off);
 * anything else becomes a per-item error. Like lib/providers/failures.ts, a provider's message is passed
 * on only for request errors (4xx), never for its own failures.
 */
import type { Response } from 'openai/resources/responses/responses';
import { InvalidModelOutputError, UpstreamError } from '../errors';
import type { Usage } from '../providers';
import { ZERO_USAGE } from '../providers/usage';
import { type ItemError, itemErrorOf } from './errors';
import type { BatchEnd } from './job';

/** One item's line: the text to validate, or why there is none; `usage` is what the line billed. */
export type LineOutcome =
  | { text: string; usage: Usage }
  /** `capped`: the output cap ended it (reasoning counts against the cap): a larger one may not. */
  | { error: ItemError; usage: Usage; capped?: true };

interface BatchLine {
  custom_id?: unknown;
  response?: { status_code?: number; body?: unknown } | null;
  error?: { code?: string; message?: string } | null;
}

/** One line of the output or error file (JSONL): its custom_id and outcome; null for an unreadable line. */
export function readLine(raw: string): [string, LineOutcome] | null {
  const line = parse(raw);
  return line && typeof line.custom_id === 'string' ? [line.custom_id, outcomeOf(line)] : null;
}

function parse(raw: string): BatchLine | null {
  if (!raw.trim()) return null;
  try {
    const value: unknown = JSON.parse(raw);
    return value !== null && typeof value === 'object' ? (value as BatchLine) : null;
  } catch {
    return null;
  }
}

function outcomeOf(line: BatchLine): LineOutcome {
  const status = line.response?.status_code;
  if (line.response && status === 200) return fromResponse(line.response.body as Response);
  if (line.response && typeof status === 'number') {
    const usage = usageOf((line.response.body as Partial<Response> | undefined)?.usage);
    return { error: statusError(status, line.response.body), usage };
  }
  const code = line.error?.code ?? 'upstream_error';
  const message = line.error?.message ?? 'OpenAI did not run this request.';
  return { error: { type: 'api_error', code, message }, usage: ZERO_USAGE };
}

/** The output text of a Responses body, as lib/providers/structured.ts reads a synchronous answer. */
export function fromResponse(body: Response): LineOutcome {
  const usage = usageOf(body?.usage);
  const parts = (body?.output ?? []).flatMap((item) => (item.type === 'message' ? item.content : []));
  const refusal = parts.find((p) => p.type === 'refusal');
  if (refusal) return { error: invalidOutput(`the model refused (${refusal.refusal})`), usage };
  if (body?.status === 'incomplete') {
    const reason = body.incomplete_details?.reason ?? 'incomplete';
    return {
      error: invalidOutput(`the answer was cut off (${reason})`),
      usage,
      ...(reason === 'max_output_tokens' ? { capped: true as const } : {}),
    };
  }
  return { text: parts.map((p) => (p.type === 'output_text' ? p.text : '')).join(''), usage };
}

function statusError(status: number, body: unknown): ItemError {
  const error = (body as { error?: { type?: string; code?: string | null; message?: string } } | undefined)
    ?.error;
  if (status >= 400 && status < 500 && status !== 429) {
    return {
      type: error?.type ?? 'invalid_request_error',
      code: error?.code ?? 'upstream_rejected',
      message: error?.message ?? `OpenAI rejected this request with status ${status}.`,
    };
  }
  return itemErrorOf(new UpstreamError({ message: `openai failed with status ${status}.` }));
}

/** An output the item cannot use; like a single call's output that stayed invalid (no repair in bulk). */
export function invalidOutput(problems: string): ItemError {
  return itemErrorOf(
    new InvalidModelOutputError({ message: `The model's output is unusable (${problems}).` }),
  );
}

function usageOf(usage: Response['usage'] | undefined): Usage {
  return {
    inputTokens: usage?.input_tokens ?? 0,
    cachedTokens: usage?.input_tokens_details?.cached_tokens ?? 0,
    cacheWriteTokens: usage?.input_tokens_details?.cache_write_tokens ?? 0,
    outputTokens: usage?.output_tokens ?? 0,
    reasoningTokens: usage?.output_tokens_details?.reasoning_tokens ?? 0,
  };
}

/** The error of an item the batch has no line for, by how the batch ended. */
export function missingError(end: Pick<BatchEnd, 'status' | 'error'>): ItemError {
  const error = (code: string, message: string): ItemError => ({ type: 'api_error', code, message });
  switch (end.status) {
    case 'expired':
      return error('batch_expired', 'The batch expired before this item was run.');
    case 'cancelled':
      return error('batch_cancelled', 'The job was cancelled before this item was run.');
    case 'failed':
      return error('batch_failed', `The batch failed${end.error ? `: ${end.error}` : ''}.`);
    default:
      return error('missing_result', 'OpenAI returned no result for this item.');
  }
}
