import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The isolate shares one Redis client across requests (lib/deps.ts), which holds only while workerd
// runs another request's continuation as a task of its own and lets the client find the calling
// request's connection pool. Both come from wrangler.toml: this keeps them there.
const config = readFileSync('wrangler.toml', 'utf8');

/** `compatibility_date` and `compatibility_flags` as wrangler.toml states them. */
function runtime() {
  const date = /^compatibility_date = "(\d{4}-\d{2}-\d{2})"$/m.exec(config)?.[1];
  const flags = /^compatibility_flags = \[([^\]]*)\]$/m.exec(config)?.[1];
  if (!date || flags === undefined) throw new Error('wrangler.toml states no compatibility date or flags');
  return { date, flags: [...flags.matchAll(/"([^"]+)"/g)].map((m) => m[1]) };
}

describe('the runtime the shared Redis client needs', () => {
  it('runs cross-request continuations in their own request (on from 2024-10-14), never turned off', () => {
    const { date, flags } = runtime();
    expect(date >= '2024-10-14').toBe(true);
    expect(flags).not.toContain('no_handle_cross_request_promise_resolution');
  });

  it('has AsyncLocalStorage (nodejs_als), which finds the calling request’s connection pool', () => {
    expect(runtime().flags).toContain('nodejs_als');
  });
});
