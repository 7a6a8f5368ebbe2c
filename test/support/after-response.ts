import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';

/** Every context handed out, with the wait for its waitUntil work once somebody asked for it. */
const contexts = new Map<ExecutionContext, Promise<void> | undefined>();

/** An execution context for one request through the Worker; its work after the response is tracked. */
export function requestContext(): ExecutionContext {
  const ctx = createExecutionContext();
  contexts.set(ctx, undefined);
  return ctx;
}

/** Waits for `ctx`'s waitUntil work (the budget settle, the metrics write, …); the same wait each call. */
export function afterResponse(ctx: ExecutionContext): Promise<void> {
  let wait = contexts.get(ctx);
  if (!wait) {
    wait = waitOnExecutionContext(ctx);
    contexts.set(ctx, wait);
  }
  return wait;
}

/**
 * Waits for the after-response work of every request made so far, so none of it runs on into the next
 * test (the worker tests share one runtime). test/support/worker-setup.ts runs it after each test.
 */
export async function settleAllRequests(): Promise<void> {
  const waits = [...contexts.keys()].map(afterResponse);
  contexts.clear();
  await Promise.all(waits);
}
