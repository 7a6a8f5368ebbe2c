import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseEnv } from '../../lib/env.ts';
import { SETTING_NAMES } from '../../lib/settings.ts';

// docs/configuration.md is the operator's list of settings (#17); lib/settings.ts is what the
// gateway reads. This keeps the two in step: the same names, and the defaults the table states.
const PAGE = 'docs/configuration.md';

/** One row of the settings table: `| \`NAME\` | default | meaning |`. */
interface Row {
  name: string;
  default: string;
}

function tableRows(markdown: string): Row[] {
  return markdown
    .split('\n')
    .map((line) => /^\| `([A-Z][A-Z0-9_]*)` \| ([^|]*) \|/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ name: m[1] as string, default: (m[2] as string).trim() }));
}

/** The problems parseEnv reports for `raw`, or none when it parses. */
function problemsOf(raw: object): string[] {
  try {
    parseEnv(raw);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

const rows = tableRows(readFileSync(PAGE, 'utf8'));
const byName = new Map(rows.map((row) => [row.name, row]));
/** The settings parseEnv refuses to do without. */
const required = new Set(problemsOf({}).map((problem) => problem.split(':')[0]));
const REQUIRED_VALUES = {
  OPENAI_API_KEY: 'sk-test-not-real',
  UPSTASH_REDIS_REST_URL: 'https://example.upstash.io',
  UPSTASH_REDIS_REST_TOKEN: 'token-not-real',
};
const defaults = parseEnv({ ...REQUIRED_VALUES }) as unknown as Record<string, unknown>;

/** A value as the table writes it: `3`, `false`, `UTC`, `{}`, `[]`. */
const asWritten = (value: unknown) =>
  typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);

describe(`${PAGE} against lib/settings.ts`, () => {
  it('lists every setting lib/settings.ts defines, once each, and no other', () => {
    const names = rows.map((row) => row.name);
    expect(names.length).toBeGreaterThan(0);
    expect(new Set(names).size).toBe(names.length);
    expect([...names].sort()).toEqual([...SETTING_NAMES].sort());
  });

  it('marks exactly the settings parseEnv requires as required', () => {
    expect(required.size).toBeGreaterThan(0);
    const marked = rows.filter((row) => row.default.startsWith('required')).map((row) => row.name);
    expect(marked.sort()).toEqual([...required].sort());
    // The values handed to parseEnv below are exactly those.
    expect(Object.keys(REQUIRED_VALUES).sort()).toEqual([...required].sort());
  });

  it('states the default parseEnv applies for every setting with a literal default', () => {
    const literal = rows.filter((row) => /^`[^`]*`$/.test(row.default));
    expect(literal.length).toBeGreaterThan(50);
    for (const row of literal) {
      expect(`${row.name} = ${asWritten(defaults[row.name])}`).toBe(
        `${row.name} = ${row.default.slice(1, -1)}`,
      );
    }
  });

  it('leaves the settings it calls unset or built-in without a value', () => {
    const none = rows.filter((row) => /^(unset|built-in)\b/.test(row.default));
    expect(none.length).toBeGreaterThan(0);
    for (const row of none) expect({ [row.name]: defaults[row.name] }).toEqual({ [row.name]: undefined });
  });

  it('describes every other default in words that hold', () => {
    const worded = rows.filter(
      (row) => !/^`[^`]*`$/.test(row.default) && !/^(required|unset|built-in)\b/.test(row.default),
    );
    expect(worded.map((row) => [row.name, row.default])).toEqual([
      ['OPENAI_ALERT_THRESHOLD_USD', '80 % of the budget'],
    ]);
    expect(defaults.OPENAI_ALERT_THRESHOLD_USD).toBe(0.8 * (defaults.OPENAI_DAILY_BUDGET_USD as number));
    expect(byName.get('OPENAI_DAILY_BUDGET_USD')?.default).toBe('`100`');
  });
});
