import { isRecord, type ParseResult } from './config.ts';
import { SimHttpError } from './errors.ts';
import { splitOutputCap } from './reasoning.ts';
import { createRng, hashOf } from './rng.ts';
import { createInstance, type JsonSchema, SchemaError } from './schema-instance.ts';
import { strictSchemaProblem } from './schema-strict.ts';
import { violateInstance } from './schema-violation.ts';
import { contentWords, plainAnswer } from './text.ts';
import { estimateTokens, IMAGE_INPUT_TOKENS, truncateToTokens } from './tokens.ts';

/** OpenAI's refusal wording, as quoted in the structured-outputs guide. */
export const REFUSAL_TEXT = "I'm sorry, I cannot assist with that request.";

/**
 * The requested output: plain text, any JSON object, JSON valid against a schema, or JSON following a schema
 * that the system prompt asks for (`prompt_schema`: followed as a compliant model would, never validated;
 * a schema with no instance gets plain text, since a prompt cannot make the API answer 400).
 */
export type OutputFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; name: string; schema: JsonSchema; strict: boolean }
  | { type: 'prompt_schema'; schema: JsonSchema };

/** Faults that change generated content rather than the transport. */
export type ContentFault = 'schema_violation' | 'refusal';

/** A model call reduced to what the simulator's output depends on. */
export interface CompletionRequest {
  model: string;
  /** Instructions and system/developer messages. */
  systemText: string;
  /** User, assistant and tool messages; generated strings reuse its words. */
  userText: string;
  imageCount: number;
  format: OutputFormat;
  maxOutputTokens?: number;
  contentFault?: ContentFault;
  /** Varies the output between choices of one request (chat `n`). @default 0 */
  variant?: number;
  /**
   * Reasoning tokens spent before the visible text (see reasoning.ts); they count against `maxOutputTokens`.
   * @default 0
   */
  reasoningTokens?: number;
}

/** Generated output and its token counts. */
export interface Completion {
  kind: 'text' | 'refusal';
  /** The output text, or the refusal message when `kind` is 'refusal'. */
  text: string;
  /** True when `maxOutputTokens` cut the text short. */
  truncated: boolean;
  /** True when reasoning used the whole `maxOutputTokens`: there is no visible output at all. */
  reasoningOnly: boolean;
  inputTokens: number;
  /** Reasoning and visible tokens. */
  outputTokens: number;
  /** The reasoning part of `outputTokens`. */
  reasoningTokens: number;
}

/**
 * Deterministic output for a request: identical requests give identical text. Reasoning comes first and
 * counts against `maxOutputTokens`; the visible text gets what is left, cut short when it does not fit.
 */
export function generateCompletion(req: CompletionRequest): Completion {
  const schemaText = req.format.type === 'json_schema' ? JSON.stringify(req.format.schema) : '';
  const inputTokens =
    estimateTokens(req.systemText + req.userText + schemaText) + req.imageCount * IMAGE_INPUT_TOKENS;
  const { reasoningTokens, visibleCap } = splitOutputCap(req.reasoningTokens ?? 0, req.maxOutputTokens);
  const base = { inputTokens, reasoningTokens, reasoningOnly: false, truncated: false };
  if (visibleCap === 0) {
    return {
      ...base,
      kind: 'text',
      text: '',
      truncated: true,
      reasoningOnly: true,
      outputTokens: reasoningTokens,
    };
  }
  if (req.contentFault === 'refusal') {
    return {
      ...base,
      kind: 'refusal',
      text: REFUSAL_TEXT,
      outputTokens: reasoningTokens + estimateTokens(REFUSAL_TEXT),
    };
  }
  const text = outputText(req);
  const visibleTokens = estimateTokens(text);
  if (visibleCap !== undefined && visibleTokens > visibleCap) {
    const cut = truncateToTokens(text, visibleCap);
    return { ...base, kind: 'text', text: cut, truncated: true, outputTokens: reasoningTokens + visibleCap };
  }
  return { ...base, kind: 'text', text, outputTokens: reasoningTokens + visibleTokens };
}

function outputText(req: CompletionRequest): string {
  const seed = hashOf(req.model, req.systemText, req.userText, req.format, req.variant ?? 0);
  const words = contentWords(req.userText || req.systemText);
  const { format } = req;
  if (format.type === 'json_schema' || format.type === 'prompt_schema') {
    const instance = instanceOf(format.schema, seed, words, numberedRequests(req.userText));
    if (instance.ok) {
      const broken = req.contentFault === 'schema_violation';
      return JSON.stringify(broken ? violateInstance(format.schema, instance.value) : instance.value);
    }
    if (format.type === 'json_schema') {
      throw new SimHttpError(400, `Invalid schema: ${instance.message}`, { code: 'invalid_json_schema' });
    }
  }
  if (format.type === 'json_object') return JSON.stringify({ answer: plainAnswer(words, createRng(seed)) });
  return plainAnswer(words, createRng(seed));
}

/** How many requests `text` numbers `Request 1:`, `Request 2:`, … in order; undefined when none. */
function numberedRequests(text: string): number | undefined {
  let n = 0;
  for (const match of text.matchAll(/^Request (\d+):/gm)) {
    if (Number(match[1]) !== n + 1) break;
    n += 1;
  }
  return n || undefined;
}

function instanceOf(
  schema: JsonSchema,
  seed: string,
  words: readonly string[],
  listed?: number,
): ParseResult<unknown> {
  try {
    return { ok: true, value: createInstance(schema, { seed, words, ...(listed ? { listed } : {}) }) };
  } catch (error) {
    if (error instanceof SchemaError) return { ok: false, message: error.message };
    throw error;
  }
}

/**
 * Validates a json_schema format (`text.format` in Responses, `response_format.json_schema` in Chat) the
 * way OpenAI does before generating: a valid name, an object schema, and the strict-mode rules when strict.
 */
export function parseJsonSchemaFormat(raw: Record<string, unknown>, param: string): OutputFormat {
  const { name, schema, strict } = raw;
  if (typeof name !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(name)) {
    throw new SimHttpError(400, `Invalid '${param}.name': must match ^[a-zA-Z0-9_-]{1,64}$.`, {
      param: `${param}.name`,
      code: 'invalid_value',
    });
  }
  if (!isRecord(schema)) {
    throw new SimHttpError(400, `Missing required parameter: '${param}.schema'.`, {
      param: `${param}.schema`,
      code: 'missing_required_parameter',
    });
  }
  if (strict === true) {
    const problem = strictSchemaProblem(schema, name);
    if (problem)
      throw new SimHttpError(400, problem, { param: `${param}.schema`, code: 'invalid_json_schema' });
  }
  return { type: 'json_schema', name, schema, strict: strict === true };
}
