import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../../bench/batching-tokens.ts', import.meta.url));
const RESULT = new URL('../../bench/results/batching-tokens.json', import.meta.url);

describe('bench/batching-tokens.ts', () => {
  it('runs under plain node and shows one batched call using fewer input tokens than ten single calls', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [SCRIPT]);
    expect(stdout).toContain('| 1 × POST /v1/creatives/batch |');
    const result = JSON.parse(await readFile(RESULT, 'utf8'));
    expect(result.single.calls).toBe(10);
    expect(result.batched.calls).toBe(1);
    // The instructions and schema go once instead of ten times.
    expect(result.batched.input_tokens * 2).toBeLessThan(result.single.input_tokens);
    // The answer carries the same ten creatives either way, give or take the array around them.
    expect(Math.abs(result.batched.output_tokens - result.single.output_tokens)).toBeLessThan(40);
  });

  it('can import, under plain node, every gateway module the benchmarks and drills use', async () => {
    // lib/ uses extensionless imports (bundler resolution); these few must stay free of them.
    const modules = [
      'creatives/schema',
      'creatives/prompt',
      'domain/opportunities',
      'domain/opportunities-prompt',
      'pricing/prices',
      'tokens',
      'env',
      'moderation/rules',
      'moderation/business-rules',
      'moderation/brand-safety',
    ];
    const script = modules.map(
      (m) => `await import(${JSON.stringify(new URL(`../../lib/${m}.ts`, import.meta.url).href)});`,
    );
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--input-type=module',
      '-e',
      `${script.join('')} console.log('imported');`,
    ]);
    expect(stdout.trim()).toBe('imported');
  });

  it('sends the prompt-cache phase 100 distinct, valid creative requests', async () => {
    // By URL, as plain node loads them: the modules follow the benchmarks' own type checking.
    const load = (path: string) => import(new URL(path, import.meta.url).href);
    const { variedCreatives } = await load('../../bench/prompt-cache.ts');
    const { CreativeRequest } = await load('../../lib/creatives/schema.ts');
    const requests: { opportunity: { product_category: string } }[] = variedCreatives(100);
    expect(new Set(requests.map((r) => JSON.stringify(r))).size).toBe(100);
    for (const r of requests) expect(CreativeRequest.safeParse(r).success).toBe(true);
    expect(new Set(requests.map((r) => r.opportunity.product_category)).size).toBeGreaterThan(1);
  });
});
