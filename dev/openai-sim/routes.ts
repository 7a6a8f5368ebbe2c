import type { SimFaultKind } from './config.ts';
import type { ContentFault } from './generate.ts';

/** What a route handler knows besides the request body. */
export interface RouteContext {
  /** A content fault chosen for this request, when the route supports it. */
  contentFault?: ContentFault;
  /** Terms that make moderation flag text. */
  flaggedTerms: readonly string[];
  /** Flag every image, as if each carried the `sim-flag` marker. */
  flagImages: boolean;
  /** Unix seconds, for `created` fields. */
  nowSeconds: number;
  /** A new random id with `prefix` (ids are unique; only content is deterministic). */
  newId(prefix: string): string;
}

/** A handler's answer: a JSON body, or pre-rendered SSE frames. `tokens` feeds the rate-limit headers. */
export type RouteResult =
  | { kind: 'json'; body: unknown; tokens: number }
  | { kind: 'sse'; frames: string[]; tokens: number };

/** One endpoint: how to match it and how to answer it. */
export interface SimRoute {
  method: 'GET' | 'POST';
  /** The stats key and the value a fault's `endpoint` names. */
  endpoint: string;
  matches(path: string): boolean;
  /** Model counted in stats when the body names none. */
  defaultModel?: string;
  /** Whether a content fault (schema_violation, refusal) applies to this request. @default never */
  supportsFault?(kind: SimFaultKind, body: Record<string, unknown>): boolean;
  /** Throws SimHttpError for requests OpenAI would reject. */
  handle(body: Record<string, unknown>, ctx: RouteContext, path: string): RouteResult;
}

/** Route helper for a fixed path. */
export function exactPath(path: string): (candidate: string) => boolean {
  return (candidate) => candidate === path;
}
