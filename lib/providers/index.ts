import type { Moderation } from 'openai/resources/moderations';
import { type Embeddings, embed } from './embeddings';
import { type GeneratedImage, generateImage, type ImageRequest } from './images';
import { type ModerationInput, moderate } from './moderations';
import type { RetryPolicy } from './retry';
import type { Served } from './router';
import type { RouterDeps } from './router-deps';
import { generateStructured, type StructuredResult } from './structured';
import type { StructuredTask } from './structured-calls';

export {
  DEFAULT_REASONING_EFFORT,
  INCOMPLETE_RETRY_FACTOR,
  REASONING_EFFORTS,
  type ReasoningEffort,
  reasoningParam,
} from './reasoning';
export type { Served } from './router';
export type { StructuredResult } from './structured';
export { callCap, type PromptPart, type StructuredTask } from './structured-calls';
export type { Usage } from './usage';

/** Every model call an endpoint makes, each behind retries, breakers and backups. */
export interface Providers {
  structured<T>(task: StructuredTask<T>): Promise<StructuredResult<T>>;
  image(request: ImageRequest): Promise<Served<GeneratedImage>>;
  moderate(input: ModerationInput): Promise<Served<Moderation>>;
  embed(texts: string[], dimensions?: number): Promise<Served<Embeddings>>;
}

export function createProviders(deps: RouterDeps, policy: RetryPolicy): Providers {
  return {
    structured: (task) => generateStructured(deps, policy, task),
    image: (request) => generateImage(deps, policy, request),
    moderate: (input) => moderate(deps, policy, input),
    embed: (texts, dimensions) => embed(deps, policy, texts, dimensions),
  };
}

/** Response headers naming who served a call, so clients and logs can tell a fallback. */
export function servedHeaders(served: Pick<Served<unknown>, 'provider' | 'model'>): Record<string, string> {
  return { 'x-gateway-provider': served.provider, 'x-gateway-model': served.model };
}
