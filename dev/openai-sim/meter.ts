import type { Work } from './profile.ts';

/** What one answer used, as the invoice bills it (see prices.ts). */
export interface Usage {
  /** The model billed: the request's, else the endpoint's default. */
  model: string;
  /** Every input token, cached and cache-written ones included. */
  inputTokens: number;
  /** Input tokens read from the prompt cache. */
  cachedInputTokens: number;
  /** Input tokens written to the prompt cache. */
  cacheWriteTokens: number;
  /** Output tokens, reasoning included; for images, the image output tokens. */
  outputTokens: number;
  /** The reasoning part of `outputTokens`. */
  reasoningTokens: number;
  /** Images generated. */
  images: number;
  /** Built-in tools the request listed, each billed as one call (see BUILT_IN_TOOL_FEES). */
  tools: string[];
  /** The tier the response reports: 'default', 'priority', 'flex' or 'scale'. */
  serviceTier: string;
}

/** Output tokens that must be generated before one SSE frame can go: reasoning first, then visible text. */
export interface FrameTokens {
  reasoning: number;
  visible: number;
}

/** A stream's frames and the output tokens each one waits for (see schedule.ts). */
export interface StreamFrames {
  frames: string[];
  frameTokens: FrameTokens[];
}

/** What a route's answer cost and how long generating it takes. */
export interface Meter {
  usage: Usage;
  work: Work;
  /** For streams, one entry per frame (same order); absent means no frame carries tokens. */
  frameTokens?: FrameTokens[];
}

/** Usage of `model` with the given counts and zero for the rest, at the default tier. */
export function usageOf(model: string, counts: Partial<Omit<Usage, 'model'>> = {}): Usage {
  return {
    model,
    inputTokens: 0,
    cachedInputTokens: 0,
    cacheWriteTokens: 0,
    outputTokens: 0,
    reasoningTokens: 0,
    images: 0,
    tools: [],
    serviceTier: 'default',
    ...counts,
  };
}

/** `usage` with only the output generated so far (a stream cut part-way). */
export function withOutput(
  usage: Usage,
  generated: { outputTokens: number; reasoningTokens: number },
): Usage {
  return { ...usage, outputTokens: generated.outputTokens, reasoningTokens: generated.reasoningTokens };
}

/**
 * Splits `visibleTokens` over text pieces in proportion to their length, as integers that add up exactly (a
 * stream's deltas carry the tokens of the text they hold).
 */
export function spreadTokens(pieces: readonly string[], visibleTokens: number): number[] {
  const total = pieces.reduce((sum, piece) => sum + piece.length, 0);
  let chars = 0;
  let given = 0;
  return pieces.map((piece) => {
    chars += piece.length;
    const upTo = total === 0 ? visibleTokens : Math.round((visibleTokens * chars) / total);
    const share = upTo - given;
    given = upTo;
    return share;
  });
}
