import { isRecord } from './config.ts';
import { SimHttpError } from './errors.ts';
import { createRng, hashOf } from './rng.ts';
import { createInstance, type JsonSchema, SchemaError } from './schema-instance.ts';
import { strictSchemaProblem } from './schema-strict.ts';
import { violateInstance } from './schema-violation.ts';
import { contentWords, plainAnswer } from './text.ts';
import { estimateTokens, IMAGE_INPUT_TOKENS, truncateToTokens } from './tokens.ts';

/** OpenAI's refusal wording, as quoted in the structured-outputs guide. */
export const REFUSAL_TEXT = "I'm sorry, I cannot assist with that request.";

/** The requested output: plain text, any JSON object, or JSON valid against a schema. */
export type OutputFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; name: string; schema: JsonSchema; strict: boolean };

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
}

/** Generated output and its token counts. */
export interface Completion {
  kind: 'text' | 'refusal';
  /** The output text, or the refusal message when `kind` is 'refusal'. */
  text: string;
  /** True when `maxOutputTokens` cut the text short. */
  truncated: boolean;
  inputTokens: number;
  outputTokens: number;
}

/** Deterministic output for a request: identical requests give identical text. */
export function generateCompletion(req: CompletionRequest): Completion {
  const schemaText = req.format.type === 'json_schema' ? JSON.stringify(req.format.schema) : '';
  const inputTokens =
    estimateTokens(req.systemText + req.userText + schemaText) + req.imageCount * IMAGE_INPUT_TOKENS;
  if (req.contentFault === 'refusal') {
    return {
      kind: 'refusal',
      text: REFUSAL_TEXT,
      truncated: false,
      inputTokens,
      outputTokens: estimateTokens(REFUSAL_TEXT),
    };
  }
  const seed = hashOf(req.model, req.systemText, req.userText, req.format, req.variant ?? 0);
  const words = contentWords(req.userText || req.systemText);
  let text: string;
  if (req.format.type === 'json_schema') {
    const { schema } = req.format;
    const instance = instanceOrError(schema, seed, words);
    text = JSON.stringify(
      req.contentFault === 'schema_violation' ? violateInstance(schema, instance) : instance,
    );
  } else if (req.format.type === 'json_object') {
    text = JSON.stringify({ answer: plainAnswer(words, createRng(seed)) });
  } else {
    text = plainAnswer(words, createRng(seed));
  }
  const outputTokens = estimateTokens(text);
  if (req.maxOutputTokens !== undefined && outputTokens > req.maxOutputTokens) {
    const cut = truncateToTokens(text, req.maxOutputTokens);
    return { kind: 'text', text: cut, truncated: true, inputTokens, outputTokens: req.maxOutputTokens };
  }
  return { kind: 'text', text, truncated: false, inputTokens, outputTokens };
}

function instanceOrError(schema: JsonSchema, seed: string, words: readonly string[]): unknown {
  try {
    return createInstance(schema, { seed, words });
  } catch (error) {
    if (error instanceof SchemaError) {
      throw new SimHttpError(400, `Invalid schema: ${error.message}`, { code: 'invalid_json_schema' });
    }
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
