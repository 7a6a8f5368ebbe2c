import { describe, expect, it } from 'vitest';
import { ConfigError, parseEnv } from '../../lib/env';

const REQUIRED = {
  OPENAI_API_KEY: 'sk-test-not-real',
  UPSTASH_REDIS_REST_URL: 'https://example.upstash.io',
  UPSTASH_REDIS_REST_TOKEN: 'token-not-real',
};

function problemsOf(raw: object): string[] {
  try {
    parseEnv(raw);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('parseEnv', () => {
  it('applies the documented defaults when only the required settings are given', () => {
    expect(parseEnv({ ...REQUIRED })).toEqual({
      ...REQUIRED,
      OPENAI_BASE_URL: 'https://api.openai.com/v1',
      OPENAI_MAX_RETRIES: 3,
      OPENAI_RETRY_BASE_MS: 1000,
      OPENAI_RETRY_MAX_DELAY_MS: 20_000,
      OPENAI_TIMEOUT_SECONDS: 30,
      OPENAI_IMAGE_TIMEOUT_SECONDS: 180,
      OPENAI_EMBEDDING_TIMEOUT_SECONDS: 20,
      OPENAI_MODERATION_TIMEOUT_SECONDS: 10,
      OPENAI_DAILY_BUDGET_USD: 100,
      OPENAI_RATE_LIMIT_RPM: 1000,
      OPENAI_ALERT_THRESHOLD_USD: 80,
      OPENAI_CIRCUIT_BREAKER_FAILURES: 5,
      OPENAI_CIRCUIT_BREAKER_TIMEOUT: 60,
      OPENAI_TEXT_MODEL: 'gpt-6-luna',
      OPENAI_IMAGE_MODEL: 'gpt-image-2.5-flare',
      OPENAI_MODERATION_MODEL: 'omni-moderation-latest',
      OPENAI_EMBEDDING_MODEL: 'text-embedding-3-large',
      OPENAI_VISION_MODEL: 'gpt-6-luna',
      BACKUP_PROVIDERS: [],
      PRICING_OVERRIDES: {},
      CACHE_TTL_SECONDS: 86_400,
      CACHE_SHARED_NAMESPACE: false,
      CACHE_POLL_MS: 150,
      CACHE_LEASE_MS: 90_000,
      MODERATION_FAIL_CLOSED: true,
      MODERATION_RULES: undefined,
      EMBEDDING_DIMENSIONS: 1024,
      EMBEDDING_CACHE_TTL_SECONDS: 2_592_000,
      CREATIVES_BATCH_MAX_ITEMS: 10,
      MODEL_POLICY: {},
      PROMPT_VARIANTS: {},
      BULK_MAX_ITEMS: 1000,
      BULK_RETRY_PERCENT: 5,
      BULK_COLLECT_PER_RUN: 200,
      BULK_POLL_JOBS_PER_RUN: 50,
      BULK_RESULTS_TTL_SECONDS: 604_800,
      METRICS_RETENTION_DAYS: 7,
      METRICS_FLUSH_SECONDS: 5,
      METRICS_NAMESPACE: 'main',
      METRICS_SCRAPE_TOKEN: undefined,
      MONITOR_WINDOW_MINUTES: 15,
      MONITOR_MIN_CALLS: 20,
      MONITOR_SUCCESS_RATE: 0.995,
      MONITOR_LATENCY_MS: 2000,
      MONITOR_CACHE_HIT_RATE: 0.7,
      MONITOR_REJECTION_RATE: 0.2,
      MONITOR_CACHED_SHARE: 0.5,
      MONITOR_CACHED_SHARE_MIN_CALLS: 20,
      LOG_PROMPTS: false,
      backups: [],
      ADMIN_API_KEY: undefined,
      KEY_RATE_LIMIT_RPM: 60,
      KEY_RATE_LIMIT_UPM: 2000,
      KEY_BUDGET_SHARE: 0.25,
      BUDGET_TIMEZONE: 'UTC',
      BUDGET_LEASE_MARGIN_SECONDS: 60,
      BUDGET_SETTLE_HOLD_MS: 100,
      ALERT_WEBHOOK_URL: undefined,
      PROXY_DEFAULT_MAX_OUTPUT_TOKENS: 4096,
      PROXY_MAX_OUTPUT_TOKENS: 32_768,
      PROXY_ALLOW_STORE: false,
      PROXY_CACHE_MAX_BYTES: 262_144,
      PROXY_DRAIN_SECONDS: 20,
      REDIS_TIMEOUT_MS: 1000,
      OVERLOAD_LATENCY_MS: 200,
      OVERLOAD_BURST: 64,
      OVERLOAD_WAIT_MS: 2000,
      MAX_BODY_BYTES: 1_048_576,
      LOG_LEVEL: 'info',
    });
  });

  it('coerces strings from vars and .dev.vars, and treats empty strings as unset', () => {
    const env = parseEnv({
      ...REQUIRED,
      OPENAI_MAX_RETRIES: '5',
      OPENAI_DAILY_BUDGET_USD: '12.5',
      OPENAI_TIMEOUT_SECONDS: 10,
      OPENAI_CIRCUIT_BREAKER_TIMEOUT: '0.05',
      CACHE_POLL_MS: '10',
      OPENAI_TEXT_MODEL: '',
      LOG_LEVEL: 'debug',
    });
    expect(env).toMatchObject({
      OPENAI_MAX_RETRIES: 5,
      OPENAI_DAILY_BUDGET_USD: 12.5,
      OPENAI_TIMEOUT_SECONDS: 10,
      OPENAI_ALERT_THRESHOLD_USD: 10,
      OPENAI_CIRCUIT_BREAKER_TIMEOUT: 0.05,
      CACHE_POLL_MS: 10,
      OPENAI_TEXT_MODEL: 'gpt-6-luna',
      LOG_LEVEL: 'debug',
    });
  });

  it('names every missing secret', () => {
    const problems = problemsOf({});
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^OPENAI_API_KEY: /),
        expect.stringMatching(/^UPSTASH_REDIS_REST_URL: /),
        expect.stringMatching(/^UPSTASH_REDIS_REST_TOKEN: /),
      ]),
    );
  });

  it.each([
    ['OPENAI_MAX_RETRIES', 'three'],
    ['OPENAI_MAX_RETRIES', '-1'],
    ['OPENAI_MAX_RETRIES', '2.5'],
    ['OPENAI_TIMEOUT_SECONDS', '0'],
    ['OPENAI_IMAGE_TIMEOUT_SECONDS', '901'],
    ['OPENAI_MODERATION_TIMEOUT_SECONDS', 'soon'],
    ['OPENAI_DAILY_BUDGET_USD', '-5'],
    ['OPENAI_RATE_LIMIT_RPM', '0'],
    ['OPENAI_CIRCUIT_BREAKER_FAILURES', 'many'],
    ['OPENAI_CIRCUIT_BREAKER_TIMEOUT', '-1'],
    ['CACHE_POLL_MS', '0'],
    ['CACHE_POLL_MS', '2.5'],
    ['CACHE_LEASE_MS', '50'],
    ['OPENAI_BASE_URL', 'ftp://example.com'],
    ['UPSTASH_REDIS_REST_URL', 'not a url'],
    ['LOG_LEVEL', 'verbose'],
    ['BUDGET_TIMEZONE', 'Mars/Olympus_Mons'],
    ['ADMIN_API_KEY', 'too-short'],
    ['ALERT_WEBHOOK_URL', 'hooks.slack.example'],
    ['ALERT_WEBHOOK_URL', 'http://hooks.slack.example/services/x'],
    ['OPENAI_BASE_URL', 'http://api.openai.com/v1'],
    ['UPSTASH_REDIS_REST_URL', 'http://eu1.upstash.io'],
    [
      'BACKUP_PROVIDERS',
      JSON.stringify([{ name: 'g', base_url: 'http://x.dev', api_key_env: 'K', models: {} }]),
    ],
    ['KEY_RATE_LIMIT_RPM', '0'],
    ['CACHE_SHARED_NAMESPACE', 'yes'],
    ['MODERATION_RULES', '{not json'],
    ['PRICING_OVERRIDES', '{"gpt-x":{"kind":"video"}}'],
    ['MODEL_POLICY', '{"summaries":{"model":"gpt-x"}}'],
    ['MODEL_POLICY', '{"creatives":{"degrade_to":""}}'],
    ['MODEL_POLICY', '{"creatives":{"reasoning_effort":"huge"}}'],
    ['PROMPT_VARIANTS', '{"creatives":[{"name":"a","weight":0}]}'],
    ['PROMPT_VARIANTS', '{"creatives":[{"name":"a","weight":1},{"name":"a","weight":1}]}'],
    ['PROMPT_VARIANTS', '{"creatives":[{"name":"Has Spaces","weight":1}]}'],
    ['CREATIVES_BATCH_MAX_ITEMS', '51'],
    // Past what one submission and one collecting run fit in a Worker's memory (lib/settings.ts).
    ['BULK_MAX_ITEMS', '10001'],
    ['METRICS_NAMESPACE', 'Prod Env'],
    ['METRICS_SCRAPE_TOKEN', 'short'],
    ['MONITOR_SUCCESS_RATE', '99.5'],
  ])('rejects %s=%s with a problem naming the variable but not the value', (name, value) => {
    const problems = problemsOf({ ...REQUIRED, [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${name}(: |\\.)`));
    expect(problems[0]).not.toContain(value);
  });

  it('rejects an alert threshold above the budget', () => {
    const problems = problemsOf({
      ...REQUIRED,
      OPENAI_DAILY_BUDGET_USD: '10',
      OPENAI_ALERT_THRESHOLD_USD: '11',
    });
    expect(problems).toEqual(['OPENAI_ALERT_THRESHOLD_USD: must not exceed OPENAI_DAILY_BUDGET_USD']);
  });

  it('parses each env object once', () => {
    const raw = { ...REQUIRED };
    expect(parseEnv(raw)).toBe(parseEnv(raw));
  });

  it('reads backup providers from JSON, with each key from the secret it names', () => {
    const spec = {
      name: 'gemini',
      base_url: 'https://generativelanguage.googleapis.com/v1beta/openai/',
      api_key_env: 'GEMINI_API_KEY',
      structured_outputs: true,
      models: { text: 'gemini-2.5-flash', embeddings: 'gemini-embedding-001' },
    };
    const env = parseEnv({
      ...REQUIRED,
      BACKUP_PROVIDERS: JSON.stringify([spec]),
      GEMINI_API_KEY: 'gm-key-123',
    });
    expect(env.backups).toEqual([{ ...spec, apiKey: 'gm-key-123' }]);
  });

  it.each([
    ['not JSON', '[{', /BACKUP_PROVIDERS: must be valid JSON/],
    [
      'a bad name',
      JSON.stringify([{ name: 'Gemini!', base_url: 'https://x.dev', api_key_env: 'K', models: {} }]),
      /name/,
    ],
    [
      'an unknown capability',
      JSON.stringify([{ name: 'g', base_url: 'https://x.dev', api_key_env: 'K', models: { audio: 'm' } }]),
      /models/,
    ],
    [
      'a missing key secret',
      JSON.stringify([{ name: 'g', base_url: 'https://x.dev', api_key_env: 'G_KEY', models: {} }]),
      /G_KEY: is required by backup provider 'g'/,
    ],
    [
      'a duplicate name',
      JSON.stringify([{ name: 'openai', base_url: 'https://x.dev', api_key_env: 'K', models: {} }]),
      /unique/,
    ],
  ])('rejects BACKUP_PROVIDERS with %s', (_, value, problem) => {
    const problems = problemsOf({ ...REQUIRED, BACKUP_PROVIDERS: value, K: 'key-value' });
    expect(problems.join('\n')).toMatch(problem);
  });
});
