import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

// wrangler.toml's `[secrets] required` makes wrangler warn, once per test file, that the secrets
// are missing from .dev.vars and the environment; the real values arrive below as miniflare
// bindings, which take precedence, so placeholders here only keep the test output readable.
for (const name of [
  'OPENAI_API_KEY',
  'UPSTASH_REDIS_REST_URL',
  'UPSTASH_REDIS_REST_TOKEN',
  'ADMIN_API_KEY',
]) {
  process.env[name] ??= 'overridden-by-miniflare-bindings';
}

// Two projects: `dev` tests the local infrastructure in Node (bridge conformance, simulator);
// `worker` runs the gateway inside workerd against that infrastructure over real HTTP.
export default defineConfig({
  test: {
    // The tests wait on Redis, the simulator and timers far more than they compute: two files at a
    // time halve the wall time even on two cores (vitest's default there is one). Each test keeps to
    // its own keys, simulator account and provider names, and every gateway a test starts takes free
    // ports, wrangler's inspector included, so files do not meet.
    maxWorkers: 2,
    reporters: ['default', './test/support/node/summary-reporter.ts'],
    // Structured request logs are noise when a test passes; they are shown for a failing one.
    silent: 'passed-only',
    projects: [
      {
        test: {
          name: 'dev',
          environment: 'node',
          include: ['test/dev/**/*.test.ts'],
          testTimeout: 20_000,
          hookTimeout: 30_000,
        },
      },
      {
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              bindings: {
                UPSTASH_REDIS_REST_URL: inject('bridgeUrl'),
                UPSTASH_REDIS_REST_TOKEN: inject('bridgeToken'),
                OPENAI_BASE_URL: `${inject('simulatorUrl')}/v1`,
                OPENAI_API_KEY: 'sim-test-key',
                ADMIN_API_KEY: 'test-admin-key-0123456789',
                // No waiting unless a test is about waiting: retries back off 0 ms (a provider's
                // retry-after still counts), and single-flight waiters poll every 10 ms.
                OPENAI_RETRY_BASE_MS: '0',
                CACHE_POLL_MS: '10',
                // Each request writes its own metrics, so a test reads them as soon as it is answered;
                // the buffered write has tests of its own.
                METRICS_FLUSH_SECONDS: '0',
                // Tests share a loaded 2-core machine, where Redis calls can queue past the default
                // 200 ms for a moment and the isolate would pace, or shed, whatever test ran then (a
                // half-open probe's twenty requests once got 503 overloaded). Overload has its own
                // test, which sets a threshold of its own.
                OVERLOAD_LATENCY_MS: '30000',
                // Nor would a test's burst of concurrent requests (a breaker test sends 200 at once):
                // paced, their timing is no longer the test's. The overload test turns it back on.
                OVERLOAD_BURST: '0',
                BRIDGE_URL: inject('bridgeUrl'),
                SIMULATOR_URL: inject('simulatorUrl'),
              },
            },
          })),
        ],
        test: {
          name: 'worker',
          isolate: false,
          // obscenity's ESM entry re-exports a CommonJS build, which workerd's module loader cannot
          // interop; pre-bundling turns it into plain ESM (wrangler's esbuild bundle does the same).
          deps: { optimizer: { ssr: { enabled: true, include: ['obscenity'] } } },
          include: ['test/**/*.test.ts'],
          exclude: ['test/dev/**'],
          globalSetup: ['./test/global-setup.ts'],
          setupFiles: ['./test/support/worker-setup.ts'],
          testTimeout: 20_000,
        },
      },
    ],
  },
});
