import { invalidParam, SimHttpError } from './errors.ts';
import { createRng, type Rng } from './rng.ts';

/** `reasoning.effort` (Responses) / `reasoning_effort` (Chat) values, as the SDK's ReasoningEffort lists them. */
export const REASONING_EFFORTS = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'] as const;

export type ReasoningEffort = (typeof REASONING_EFFORTS)[number];

/** What a reasoning model assumes when the request names no effort. */
export const DEFAULT_EFFORT: ReasoningEffort = 'medium';

/**
 * Median reasoning tokens per effort. Each draw is lognormal around its median with LOG_SIGMA, i.e.
 * `round(median × e^(0.6·z))` for a standard normal z: the middle 50 % lie within ×0.67–×1.5 of the median,
 * and p99 is ×4.04 (low: 256 → p99 ≈ 1,035; medium: 1,024 → ≈ 4,140; high: 4,096 → ≈ 16,560; xhigh and
 * max: 8,192 → ≈ 33,100). `none` and `minimal` never reason. The figures are a model of production, not tuned
 * to any client's caps.
 */
export const REASONING_MEDIANS: Record<ReasoningEffort, number> = {
  none: 0,
  minimal: 0,
  low: 256,
  medium: 1024,
  high: 4096,
  xhigh: 8192,
  max: 8192,
};

/** The lognormal's sigma (of the natural log of the token count). */
export const LOG_SIGMA = 0.6;

/** gpt-5*, gpt-6* and the o-series reason; gpt-4.1* and gpt-4o* (and anything else) do not. */
const REASONING_MODEL = /^(gpt-5|gpt-6|o\d)/;

/** Whether `model` produces reasoning tokens. */
export function isReasoningModel(model: string): boolean {
  return REASONING_MODEL.test(model);
}

/**
 * The effort a request asks for (undefined when omitted or null); 400 for a value the API does not know,
 * and, as the real API answers, `unsupported_parameter` for any effort on a model that does not reason.
 */
export function parseEffort(value: unknown, param: string, model: string): ReasoningEffort | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isReasoningModel(model)) {
    throw new SimHttpError(400, `Unsupported parameter: '${param}' is not supported with this model.`, {
      param,
      code: 'unsupported_parameter',
    });
  }
  if (!REASONING_EFFORTS.includes(value as ReasoningEffort)) {
    throw invalidParam(
      param,
      `Invalid value for '${param}': expected one of ${REASONING_EFFORTS.join(', ')}, got ${JSON.stringify(value)}.`,
    );
  }
  return value as ReasoningEffort;
}

/** One draw of the reasoning tokens for `effort` (see REASONING_MEDIANS). */
export function drawReasoningTokens(effort: ReasoningEffort, rng: Rng): number {
  const median = REASONING_MEDIANS[effort];
  if (median === 0) return 0;
  return Math.max(1, Math.round(median * Math.exp(LOG_SIGMA * standardNormal(rng))));
}

/** A standard normal draw (Box–Muller), from two uniforms of `rng`. */
export function standardNormal(rng: Rng): number {
  const u = 1 - rng.next(); // (0, 1]: log(0) is -Infinity
  const v = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** How a reasoning budget splits an output cap. */
export interface ReasoningSplit {
  /** Reasoning tokens spent, at most the cap. */
  reasoningTokens: number;
  /** What is left for visible text: undefined without a cap, 0 when reasoning used all of it. */
  visibleCap: number | undefined;
}

/**
 * Reasoning comes first and counts against the output cap (`max_output_tokens`, `max_completion_tokens`,
 * `max_tokens`): it takes at most the whole cap, and the visible text gets the rest.
 */
export function splitOutputCap(reasoningTokens: number, cap: number | undefined): ReasoningSplit {
  if (cap === undefined) return { reasoningTokens, visibleCap: undefined };
  const spent = Math.min(reasoningTokens, cap);
  return { reasoningTokens: spent, visibleCap: cap - spent };
}

/**
 * Reasoning tokens a request spends: the config's fixed `reasoning_tokens`, else a draw for its effort
 * (DEFAULT_EFFORT when omitted) seeded by `seed`, so the same request always reasons as long; 0 on the
 * instant profile and for models that do not reason.
 */
export function reasoningFor(
  ctx: { realistic: boolean; config: { reasoning_tokens?: number } },
  model: string,
  effort: ReasoningEffort | undefined,
  seed: string,
): number {
  if (!ctx.realistic || !isReasoningModel(model)) return 0;
  if (ctx.config.reasoning_tokens !== undefined) return ctx.config.reasoning_tokens;
  return drawReasoningTokens(effort ?? DEFAULT_EFFORT, createRng(`reasoning:${seed}`));
}
