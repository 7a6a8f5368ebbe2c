import { isRecord } from './config.ts';

/** One request of a batch input file. */
export interface BatchLine {
  customId: string;
  url: string;
  body: Record<string, unknown>;
}

/** An entry of a batch's `errors.data` (BatchError in the SDK); `line` is 1-based. */
export interface BatchError {
  code: string;
  message: string;
  param: string | null;
  line: number | null;
}

/** OpenAI's limit on requests per batch. */
export const MAX_BATCH_REQUESTS = 50_000;
/** Errors listed per failed batch; OpenAI also reports only the first ones. */
const MAX_ERRORS = 100;

/**
 * Validates a batch input file the way OpenAI does while a batch is `validating`: every non-blank line a JSON
 * object `{custom_id, method: 'POST', url, body}` whose url is the batch's endpoint, custom_ids unique, one
 * model for the whole batch, 1 to 50,000 requests. Any error fails the whole batch.
 */
export function parseBatchInput(
  text: string,
  endpoint: string,
): { ok: true; lines: BatchLine[]; model: string | null } | { ok: false; errors: BatchError[] } {
  const errors: BatchError[] = [];
  const lines: BatchLine[] = [];
  const seen = new Set<string>();
  let model: string | null = null;
  const fail = (line: number | null, code: string, message: string, param: string | null = null) =>
    void errors.push({ code, message, param, line });
  const raw = text.split('\n').map((line, i) => [i + 1, line.trim()] as const);
  for (const [number, source] of raw) {
    if (!source || errors.length >= MAX_ERRORS) continue;
    const parsed = parseLine(source);
    if (typeof parsed === 'string') {
      fail(
        number,
        parsed === 'json' ? 'invalid_json_line' : 'missing_required_parameter',
        describe(parsed),
        param(parsed),
      );
      continue;
    }
    if (parsed.method !== 'POST') {
      fail(number, 'invalid_method', 'The method for this request must be POST.', 'method');
    } else if (parsed.url !== endpoint) {
      fail(
        number,
        'mismatched_endpoint',
        'The URL provided for this request does not match the batch endpoint.',
        'url',
      );
    } else if (seen.has(parsed.customId)) {
      fail(
        number,
        'duplicate_custom_id',
        'The custom_id for this request is a duplicate of another request. The custom_id parameter must be unique for each request in a batch.',
        'custom_id',
      );
    } else if (typeof parsed.body.model === 'string' && model !== null && parsed.body.model !== model) {
      fail(
        number,
        'mismatched_model',
        'The provided model for this request does not match the model of other requests in the batch.',
        'body.model',
      );
    }
    seen.add(parsed.customId);
    if (typeof parsed.body.model === 'string') model ??= parsed.body.model;
    lines.push({ customId: parsed.customId, url: parsed.url, body: parsed.body });
  }
  if (!errors.length && lines.length === 0) fail(null, 'empty_file', 'The batch input file is empty.');
  if (lines.length > MAX_BATCH_REQUESTS) {
    fail(
      null,
      'too_many_requests',
      `The batch input file has ${lines.length} requests; at most ${MAX_BATCH_REQUESTS} are allowed.`,
    );
  }
  return errors.length ? { ok: false, errors } : { ok: true, lines, model };
}

type LineProblem = 'json' | 'custom_id' | 'method' | 'url' | 'body';
type ParsedLine = BatchLine & { method: unknown };

function parseLine(source: string): ParsedLine | LineProblem {
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch {
    return 'json';
  }
  if (!isRecord(value)) return 'json';
  if (typeof value.custom_id !== 'string' || !value.custom_id) return 'custom_id';
  if (value.method === undefined) return 'method';
  if (typeof value.url !== 'string') return 'url';
  if (!isRecord(value.body)) return 'body';
  return { customId: value.custom_id, method: value.method, url: value.url, body: value.body };
}

function describe(problem: LineProblem): string {
  return problem === 'json'
    ? 'This line is not parseable as valid JSON.'
    : `Missing required parameter: '${problem}'.`;
}

function param(problem: LineProblem): string | null {
  return problem === 'json' ? null : problem;
}
