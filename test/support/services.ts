/** A request's scope written by hand (lib/services.ts), for tests of what runs below Hono. */
import { z } from 'zod';
import { createDeps } from '../../lib/deps';
import { parseEnv } from '../../lib/env';
import { createLogger } from '../../lib/log';
import type { Principal } from '../../lib/principal';
import type { RequestScope } from '../../lib/request-scope';
import { bindings, envWith } from './env';
import { simKey } from './providers';

/** A client key with a $1 budget and 3 units a minute. */
export const KEY: Principal = {
  kind: 'key',
  id: `key_${crypto.randomUUID().replaceAll('-', '').slice(0, 24)}`,
  name: 'services-test',
  rpm: 60,
  upm: 3,
  dailyBudgetUsd: 1,
  scopes: null,
  models: null,
};

export function scopeFor(principal: Principal = KEY) {
  const sim = simKey();
  const env = parseEnv(envWith({ OPENAI_API_KEY: sim }));
  const deferred: Promise<unknown>[] = [];
  const headers = new Map<string, string>();
  const scope: RequestScope = {
    env,
    deps: createDeps(env),
    log: createLogger({ level: 'error' }),
    requestId: 'req_services_test',
    metrics: undefined,
    defer: (work) => void deferred.push(work),
    principal: () => principal,
    header: (name, value) => void headers.set(name, value),
    images: bindings.IMAGES,
    origin: 'http://gateway',
  };
  return { scope, sim, headers, settled: () => Promise.all(deferred.splice(0)) };
}

/** A small structured task the simulator answers: one short `answer`. */
export const ANSWER_TASK = {
  name: 'answer',
  schema: z.object({ answer: z.string().max(60) }),
  instructions: 'Answer briefly.',
  input: 'Boots for rain?',
  maxOutputTokens: 100,
};
