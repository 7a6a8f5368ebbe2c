import { invalidParam, missingParam, SimHttpError } from './errors.ts';
import { type Meter, usageOf } from './meter.ts';
import { createRng, hashOf } from './rng.ts';
import { exactPath, type RouteResult, type SimRoute } from './routes.ts';
import { estimateTokens } from './tokens.ts';

/** Default vector lengths; unknown models get 1536. */
export const EMBEDDING_DIMENSIONS: Record<string, number> = {
  'text-embedding-3-large': 3072,
  'text-embedding-3-small': 1536,
  'text-embedding-ada-002': 1536,
};
const FALLBACK_DIMENSIONS = 1536;
const MAX_INPUTS = 2048;

/**
 * `POST /v1/embeddings`: unit-length (L2 norm 1) vectors derived from a hash of model and text, so equal
 * texts embed equally. `dimensions` shortens the full vector and renormalises it (Matryoshka-style), and
 * `encoding_format: 'base64'` sends little-endian float32 bytes, which is what the SDK asks for by default.
 */
export const embeddingsRoute: SimRoute = {
  method: 'POST',
  endpoint: '/v1/embeddings',
  matches: exactPath('/v1/embeddings'),
  handle: handleEmbeddings,
};

function handleEmbeddings(body: Record<string, unknown>): RouteResult {
  if (typeof body.model !== 'string' || !body.model) throw missingParam('model');
  const model = body.model;
  const inputs = parseInputs(body.input);
  const fullLength = EMBEDDING_DIMENSIONS[model] ?? FALLBACK_DIMENSIONS;
  const dimensions = parseDimensions(body.dimensions, model, fullLength);
  if (
    body.encoding_format !== undefined &&
    body.encoding_format !== 'float' &&
    body.encoding_format !== 'base64'
  ) {
    throw invalidParam('encoding_format', "Invalid 'encoding_format': expected 'float' or 'base64'.");
  }
  const data = inputs.map((input, index) => {
    const vector = embed(model, input, dimensions);
    const embedding = body.encoding_format === 'base64' ? toBase64(vector) : Array.from(vector);
    return { object: 'embedding', index, embedding };
  });
  const promptTokens = inputs.reduce((sum, input) => sum + estimateTokens(input), 0);
  const usage = { prompt_tokens: promptTokens, total_tokens: promptTokens };
  const meter: Meter = {
    usage: usageOf(model, { inputTokens: promptTokens }),
    work: { kind: 'embedding', seed: hashOf(model, inputs.length, promptTokens), inputTokens: promptTokens },
  };
  return { kind: 'json', body: { object: 'list', data, model, usage }, meter };
}

/** Each input as text: strings as they are, token arrays as their JSON. */
function parseInputs(input: unknown): string[] {
  if (input === undefined) throw missingParam('input');
  const list =
    typeof input === 'string' || (Array.isArray(input) && input.every((x) => typeof x === 'number'))
      ? [input]
      : input;
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_INPUTS) {
    throw invalidParam(
      'input',
      `Invalid 'input': expected a non-empty string or an array of 1-${MAX_INPUTS} inputs.`,
    );
  }
  return list.map((item) => {
    if (typeof item === 'string' && item.length > 0) return item;
    if (Array.isArray(item) && item.length > 0 && item.every((x) => Number.isInteger(x)))
      return JSON.stringify(item);
    throw invalidParam('input', "Invalid 'input': inputs must be non-empty strings or token arrays.");
  });
}

function parseDimensions(value: unknown, model: string, fullLength: number): number {
  if (value === undefined || value === null) return fullLength;
  if (!model.startsWith('text-embedding-3')) {
    throw new SimHttpError(400, 'This model does not support specifying dimensions.', {
      param: 'dimensions',
    });
  }
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > fullLength) {
    throw invalidParam('dimensions', `Invalid 'dimensions': expected an integer from 1 to ${fullLength}.`);
  }
  return value as number;
}

/** The first `dimensions` components of the model's full vector for `text`, renormalised to length 1. */
function embed(model: string, text: string, dimensions: number): Float32Array {
  const rng = createRng(hashOf('embedding', model, text));
  // Sums of uniforms are roughly Gaussian, so the directions spread evenly over the sphere.
  const components = Array.from({ length: dimensions }, () => rng.next() + rng.next() + rng.next() - 1.5);
  const norm = Math.sqrt(components.reduce((sum, value) => sum + value * value, 0)) || 1;
  return Float32Array.from(components, (value) => value / norm);
}

function toBase64(vector: Float32Array): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((value, i) => {
    bytes.writeFloatLE(value, i * 4);
  });
  return bytes.toString('base64');
}
