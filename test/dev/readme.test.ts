import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The README is what a newcomer reads first (#17): short, and every file it names must exist, so
// the request it walks through stays the code's real path.
const README = readFileSync('README.md', 'utf8');

/** Every backticked source path the README names, e.g. `lib/cache-first.ts` or `lib/moderation/`. */
function namedPaths(markdown: string): string[] {
  const found = markdown.matchAll(/`((?:lib|functions|dev|bench|test|docs|scripts)\/[\w./-]*)`/g);
  return [...new Set([...found].map((m) => m[1] as string))];
}

/** The rows of the orchestration table under "One request": `| n | \`file\` | … |`. */
function orchestrationFiles(markdown: string): string[] {
  const section = markdown.split('### One request')[1]?.split('\n## ')[0] ?? '';
  return [...section.matchAll(/^\| \d+ \| `([^`]+)` \|/gm)].map((m) => m[1] as string);
}

describe('README', () => {
  it('stays a five-minute read', () => {
    expect(README.split('\n').length).toBeLessThanOrEqual(250);
  });

  it('names only files and folders that exist', () => {
    const paths = namedPaths(README);
    expect(paths.length).toBeGreaterThan(20);
    expect(paths.filter((p) => !existsSync(p))).toEqual([]);
  });

  it('walks one request through at most ten orchestration files, in the order of the pass', () => {
    const files = orchestrationFiles(README);
    expect(files.length).toBeGreaterThan(0);
    expect(files.length).toBeLessThanOrEqual(10);
    expect(files[0]).toBe('functions/index.ts');
    expect(files.filter((f) => !existsSync(f))).toEqual([]);
  });
});
