import { Hono } from 'hono';
import type { AppEnv } from '../lib/app-env';
import { chatCompletions } from './openai-chat-completions';
import { embeddings } from './openai-embeddings';
import { imagesGenerations } from './openai-images';
import { openaiModels } from './openai-models';
import { moderations } from './openai-moderations';
import { responses } from './openai-responses';

/** The proxy's POST routes: each admits its caller in its handler (`admitsInHandler`), with the cache lookup in the same round trip. */
export const OPENAI_PROXY_POSTS = [
  '/openai/v1/chat/completions',
  '/openai/v1/responses',
  '/openai/v1/embeddings',
  '/openai/v1/moderations',
  '/openai/v1/images/generations',
] as const;

/**
 * The OpenAI-compatible API under `/openai/v1`: point any OpenAI client's base URL here, with a
 * gateway key as its API key. Errors keep the gateway's one body shape, which is OpenAI's.
 */
export const openaiProxy = new Hono<AppEnv>()
  .use('/openai/v1/*', async (c, next) => {
    await next();
    // The SDKs retry every 429; a spent budget only comes back when the budget day turns.
    if (c.get('errorCode') === 'budget_exceeded') c.res.headers.set('x-should-retry', 'false');
  })
  .route('/', chatCompletions)
  .route('/', responses)
  .route('/', embeddings)
  .route('/', moderations)
  .route('/', imagesGenerations)
  .route('/', openaiModels);
