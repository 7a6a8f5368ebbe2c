import type { SimConfig, SimFaultKind } from './config.ts';
import type { ContentFault } from './generate.ts';
import type { Invoice } from './invoice.ts';
import type { Meter } from './meter.ts';
import type { CacheUse } from './prompt-cache.ts';
import type { CachePrompt } from './prompt-sequence.ts';
import type { SimStorage } from './storage.ts';

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
  /** The same instant in milliseconds, for batch progress. */
  nowMs: number;
  /** The request's query string (list endpoints page with it). */
  query: URLSearchParams;
  /** A new random id with `prefix` (ids are unique; only content is deterministic). */
  newId(prefix: string): string;
  /** The config this request runs under: its key's scoped config, else the global one. */
  config: SimConfig;
  /** Uploaded files and batches, kept in memory for the simulator's lifetime. */
  storage: SimStorage;
  /** Every route, so that a batch can answer each line with the handler its `url` names. */
  routes: readonly SimRoute[];
  /** The request's bearer key. */
  apiKey: string;
  /** Whether the config's profile is `realistic` (reasoning tokens, large images). */
  realistic: boolean;
  /**
   * What `prompt`, reported as `inputTokens` input tokens, reads from this account's prompt cache and writes
   * to it, on every profile (see prompt-cache.ts).
   */
  promptCache(prompt: CachePrompt, inputTokens: number): CacheUse;
  /** Where finished batches bill their lines. */
  invoice: Invoice;
}

/**
 * A handler's answer: a JSON body, pre-rendered SSE frames, or raw bytes (file content). `meter` (model calls
 * only) is what the answer is billed and how long it takes.
 */
export type RouteResult =
  | { kind: 'json'; body: unknown; meter?: Meter }
  | { kind: 'sse'; frames: string[]; meter?: Meter }
  | { kind: 'bytes'; body: Buffer; contentType: string };

/** One endpoint: how to match it and how to answer it. */
export interface SimRoute {
  method: 'GET' | 'POST' | 'DELETE';
  /** The stats key and the value a fault's `endpoint` names. */
  endpoint: string;
  matches(path: string): boolean;
  /** How a POST body is read: JSON, a multipart/form-data upload, or not at all. @default 'json' */
  body?: 'json' | 'multipart' | 'none';
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

/** Route helper for a path with one `{id}` segment, e.g. `idPath('/v1/files/', '/content')`. */
export function idPath(
  prefix: string,
  suffix = '',
): { matches(path: string): boolean; idOf(path: string): string } {
  const pattern = new RegExp(`^${escapeRegex(prefix)}([^/]+)${escapeRegex(suffix)}$`);
  return {
    matches: (path) => pattern.test(path),
    idOf: (path) => decodeURIComponent(pattern.exec(path)?.[1] ?? ''),
  };
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
