/**
 * The Worker's bundle as `wrangler deploy` would upload it (`--dry-run --outdir`): raw and gzipped
 * size of the script, and the packages that weigh most (by their share of the source map's sources).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { REPO_ROOT } from './lib/processes.ts';

// As dev/start.ts resolves it: wrangler's package exports hide its bin.
const WRANGLER_BIN = join(
  dirname(createRequire(import.meta.url).resolve('wrangler/package.json')),
  'bin/wrangler.js',
);

export interface BundleResult {
  command: string;
  scriptBytes: number;
  scriptGzipBytes: number;
  /** wrangler's own "Total Upload" line (it includes the assets' manifest). */
  wranglerSummary: string;
  heaviest: { module: string; bytes: number }[];
}

export async function benchBundle(): Promise<BundleResult> {
  const outdir = mkdtempSync(join(tmpdir(), 'cag-bundle-'));
  try {
    const args = ['deploy', '--dry-run', '--outdir', outdir];
    const { stdout } = await promisify(execFile)(process.execPath, [WRANGLER_BIN, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
    });
    const script = join(outdir, 'index.js');
    const code = readFileSync(script);
    return {
      command: `npx wrangler ${args.join(' ').replace(outdir, '<tmp>')}`,
      scriptBytes: statSync(script).size,
      scriptGzipBytes: gzipSync(code, { level: 9 }).length,
      wranglerSummary: /Total Upload:.*$/m.exec(stdout)?.[0] ?? '',
      heaviest: heaviestModules(join(outdir, 'index.js.map')),
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

function heaviestModules(mapFile: string): { module: string; bytes: number }[] {
  let map: { sources: string[]; sourcesContent?: (string | null)[] };
  try {
    map = JSON.parse(readFileSync(mapFile, 'utf8'));
  } catch {
    return [];
  }
  const bytes = new Map<string, number>();
  map.sources.forEach((source, i) => {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(source);
    const module = match ? (match[1] as string) : 'gateway code (functions/, lib/)';
    const size = Buffer.byteLength(map.sourcesContent?.[i] ?? '');
    bytes.set(module, (bytes.get(module) ?? 0) + size);
  });
  return [...bytes]
    .map(([module, size]) => ({ module, bytes: size }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 6);
}
