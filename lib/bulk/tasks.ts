/**
 * The two tasks a bulk job can run, each described the way its single endpoint runs it: the request
 * schema, the structured task and its prompt variant, the cache key, which texts are moderated (the
 * client's, then the model's), and the value that is cached. Key parts, variants and cached values are those of functions/opportunities.ts
 * and functions/creatives.ts, so that a bulk result is a cache hit for a later single call.
 */
import { z } from 'zod';
import type { CacheKeyParts } from '../cache';
import { type CreativeValue, creativeFields, creativeKeyParts } from '../creatives/pipeline';
import { creativeTask } from '../creatives/prompt';
import { CreativeOutput, CreativeRequest } from '../creatives/schema';
import {
  OpportunitiesOutput,
  OpportunitiesRequest,
  type OpportunitiesResponse,
  opportunitiesText,
  withIds,
} from '../domain/opportunities';
import { opportunitiesTask } from '../domain/opportunities-prompt';
import { assertCreativeApproved, assertOpportunitiesApproved } from '../domain/verdicts';
import type { Env } from '../env';
import type { Verdict } from '../moderation';
import { opportunityFields, opportunityKeyParts } from '../opportunity-keys';
import type { StructuredTask } from '../providers';
import type { Variant } from '../variants';

export const BULK_TASKS = ['opportunities', 'creatives'] as const;
export type BulkTaskName = (typeof BULK_TASKS)[number];

/** One task as the bulk path runs it. */
export interface BulkTask<Req, Out, Value> {
  /** Validates one item; the single endpoint's request schema (creatives: text only). */
  request: z.ZodType<Req>;
  /** What the model must return; the schema `structured` sends. */
  output: z.ZodType<Out>;
  /** The single endpoint's model-policy and prompt-variant task. */
  single: 'opportunities' | 'creatives';
  /** The name `structured` gives its task, as per-task metrics count it (lib/metrics/tasks.ts). */
  metricsTask: 'opportunities' | 'creative';
  structured(request: Req): StructuredTask<Out>;
  /** What picks a request's (sticky) prompt variant, as the single endpoint hashes it. */
  variantUnit(request: Req): unknown;
  cacheParts(request: Req, env: Env, variant: Variant | undefined): Omit<CacheKeyParts, 'namespace'>;
  /** The client's text, moderated as the single endpoint moderates it before generating. */
  inputText(request: Req): string;
  /** What a refusal of that text names, as the single endpoint's `param`. */
  inputParam: string;
  /** The generated text to moderate, as the single endpoint moderates its answer. */
  outputText(output: Out): string;
  /** Refuses a flagged answer as the single endpoint does (`422 creative_rejected`). */
  assertOutputApproved(verdict: Verdict): void;
  /** Exactly what the single endpoint caches for this output. */
  cached(output: Out, checked: Verdict['checked']): Promise<Value>;
  /** The item's result fields (besides `index` and `ok`). */
  result(value: Value): Record<string, unknown>;
}

/** Bulk creatives are text only: copy, call to action and image prompt, never an image. */
const BulkCreativeRequest = CreativeRequest.extend({
  needs_visual: z
    .literal(false, { error: 'bulk creatives are text only: omit needs_visual or set it to false' })
    .default(false),
});

const opportunities: BulkTask<OpportunitiesRequest, OpportunitiesOutput, OpportunitiesResponse> = {
  request: OpportunitiesRequest,
  output: OpportunitiesOutput,
  single: 'opportunities',
  metricsTask: 'opportunities',
  structured: opportunitiesTask,
  variantUnit: opportunityFields,
  cacheParts: (request, env, variant) => opportunityKeyParts(env, request, variant),
  inputText: (request) => request.intent,
  inputParam: 'intent',
  outputText: opportunitiesText,
  assertOutputApproved: assertOpportunitiesApproved,
  cached: (output) => withIds(output),
  result: (value) => ({ ...value }),
};

const creatives: BulkTask<CreativeRequest, CreativeOutput, CreativeValue> = {
  request: BulkCreativeRequest,
  output: CreativeOutput,
  single: 'creatives',
  metricsTask: 'creative',
  structured: creativeTask,
  variantUnit: creativeFields,
  cacheParts: (request, env, variant) => creativeKeyParts(env, request, variant),
  inputText: (request) =>
    [request.opportunity.description, request.target_audience, request.brand_voice].join('\n'),
  inputParam: 'opportunity',
  outputText: (output) => `${output.copy}\n${output.call_to_action}\n${output.image_prompt}`,
  assertOutputApproved: (verdict) => assertCreativeApproved(verdict, 'copy'),
  cached: async (output, checked) => ({ ...output, image: null, moderation: { approved: true, checked } }),
  result: (value) => ({ creative: value }),
};

/** Erases a task's types, so both fit one table; each task checks its own values through `request`. */
export type AnyBulkTask = BulkTask<unknown, unknown, unknown>;

export const TASKS: Record<BulkTaskName, AnyBulkTask> = {
  opportunities: opportunities as unknown as AnyBulkTask,
  creatives: creatives as unknown as AnyBulkTask,
};
