/**
 * The structured tasks whose prompts are built to be served from OpenAI's prompt cache: their unchanging
 * prefix passes 1,024 tokens (docs/prompt-caching.md; test/lib/prompt-tokens.test.ts keeps this list and
 * the prompts in step). Only these have a cached share worth watching: image analysis's prompt is too
 * short to be cached at all, and its alert would fire for good.
 */
export const CACHED_TASKS: ReadonlySet<string> = new Set(['creative', 'creatives', 'opportunities']);
