/**
 * `npm run dev`: starts whatever local infrastructure is missing, then `wrangler dev`.
 * - No UPSTASH_REDIS_REST_URL → the Upstash REST bridge (real redis-server from PATH or REDIS_URL,
 *   else an embedded in-memory store).
 * - No OPENAI_API_KEY → the OpenAI simulator, so no account or key is needed.
 * Settings come from the process environment or `.dev.vars` (the environment wins; DEV_VARS_FILE
 * names another file). Arguments after the script go to `wrangler dev` as they are (the bench adds
 * its floor Worker with `-c wrangler.toml -c <floor config>`).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parseEnv } from 'node:util';
import { SETTING_NAMES } from '../lib/settings.ts';
import { type RunningBridge, startBridge } from './bridge/index.ts';
import { type RunningSimulator, startSimulator } from './openai-sim/index.ts';

const GATEWAY_PORT = Number(process.env.PORT ?? 8787);
const BRIDGE_PORT = Number(process.env.BRIDGE_PORT ?? 8079);
const SIM_PORT = Number(process.env.SIM_PORT ?? 8090);
// wrangler's own default (9229 when free) is picked by a check-then-bind that two gateways started at
// once can both win; a caller starting several passes a free port of its own.
const INSPECTOR_PORT = process.env.INSPECTOR_PORT;
// One file per process: two gateways started together in one tree (tests) must not read each other's secrets.
const GENERATED_VARS = `.wrangler/dev-${process.pid}.env`;
// wrangler's package exports hide its bin; resolve the package root and take the file from there.
const WRANGLER_BIN = join(
  dirname(createRequire(import.meta.url).resolve('wrangler/package.json')),
  'bin/wrangler.js',
);

const log = (line: string) => process.stderr.write(`[dev] ${line}\n`);

/** Settings from `.dev.vars`, overridden by any the process environment sets. */
function gatherSettings(): Record<string, string> {
  const file = process.env.DEV_VARS_FILE ?? '.dev.vars';
  const fromFile = existsSync(file) ? parseEnv(readFileSync(file, 'utf8')) : {};
  const settings: Record<string, string> = {};
  for (const [name, value] of Object.entries(fromFile)) if (value !== undefined) settings[name] = value;
  for (const name of SETTING_NAMES) {
    const value = process.env[name];
    if (value !== undefined && value !== '') settings[name] = value;
  }
  return settings;
}

async function main() {
  const settings = gatherSettings();
  const started: { close(): Promise<void> }[] = [];
  let bridge: RunningBridge | undefined;
  let simulator: RunningSimulator | undefined;

  if (!settings.UPSTASH_REDIS_REST_URL) {
    const token = settings.UPSTASH_REDIS_REST_TOKEN ?? 'local-dev-token';
    bridge = await startBridge({
      port: BRIDGE_PORT,
      token,
      ...(process.env.REDIS_URL ? { redisUrl: process.env.REDIS_URL } : {}),
      // 'embedded' forces the in-memory store even where redis-server is installed.
      backend: process.env.BRIDGE_BACKEND === 'embedded' ? 'embedded' : 'auto',
      log,
    });
    started.push(bridge);
    settings.UPSTASH_REDIS_REST_URL = bridge.url;
    settings.UPSTASH_REDIS_REST_TOKEN = token;
  }
  if (!settings.OPENAI_API_KEY) {
    simulator = await startSimulator({ port: SIM_PORT, log });
    started.push(simulator);
    settings.OPENAI_BASE_URL = `${simulator.url}/v1`;
    settings.OPENAI_API_KEY = 'sim-local-dev';
  }

  // A newcomer can create client keys at once; a configured ADMIN_API_KEY is never printed.
  let generatedAdminKey: string | undefined;
  if (!settings.ADMIN_API_KEY) {
    generatedAdminKey = `dev-admin-${randomBytes(18).toString('base64url')}`;
    settings.ADMIN_API_KEY = generatedAdminKey;
  }

  // wrangler dev loads only the declared secrets (`[secrets] required`) from an env file, where they
  // show as hidden; every other setting goes in as --var, whose value its binding table prints.
  const declared = declaredSecrets();
  mkdirSync('.wrangler', { recursive: true });
  const secretLines = Object.entries(settings).filter(([k]) => declared.has(k));
  writeFileSync(GENERATED_VARS, secretLines.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join('\n'));
  chmodSync(GENERATED_VARS, 0o600);
  const varArgs = Object.entries(settings)
    .filter(([k]) => !declared.has(k))
    .flatMap(([k, v]) => ['--var', `${k}:${v}`]);

  const wrangler = spawn(
    process.execPath,
    [
      WRANGLER_BIN,
      'dev',
      '--port',
      String(GATEWAY_PORT),
      '--ip',
      '127.0.0.1',
      '--env-file',
      GENERATED_VARS,
      // No --test-scheduled: wrangler's own route (/cdn-cgi/handler/scheduled) runs a cron by hand, while
      // that flag wraps every request in a dev-only middleware (a URL parse and a header read).
      ...(INSPECTOR_PORT ? ['--inspector-port', INSPECTOR_PORT] : []),
      ...varArgs,
      ...process.argv.slice(2),
    ],
    { stdio: 'inherit', env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } },
  );

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    wrangler.kill('SIGTERM');
    await Promise.allSettled(started.map((s) => s.close()));
    rmSync(GENERATED_VARS, { force: true });
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  wrangler.on('exit', (code) => void stop(code ?? 1));
  wrangler.on('error', (err) => {
    log(`could not start wrangler: ${err.message}`);
    void stop(1);
  });

  const url = `http://127.0.0.1:${GATEWAY_PORT}`;
  await waitForHealth(url);
  const store = bridge
    ? `local bridge (${bridge.mode}) at ${bridge.url}`
    : 'Upstash (UPSTASH_REDIS_REST_URL)';
  const provider = simulator
    ? `OpenAI simulator at ${simulator.url}`
    : `OpenAI at ${settings.OPENAI_BASE_URL}`;
  log(`commerce-ai-gateway is ready at ${url}`);
  log(`  store:    ${store}`);
  log(`  provider: ${provider}`);
  log(`  try:      curl ${url}/health`);
  if (generatedAdminKey) {
    log(`  admin key (generated for this run; set ADMIN_API_KEY to choose one): ${generatedAdminKey}`);
    log(`  create a client key:`);
    log(`    curl -s -X POST ${url}/admin/keys -H 'authorization: Bearer ${generatedAdminKey}' \\`);
    log(`      -H 'content-type: application/json' -d '{"name":"local"}'`);
  }
}

/** The names in wrangler.toml's `[secrets] required`. */
function declaredSecrets(): Set<string> {
  const list = /^\s*required\s*=\s*\[([^\]]*)\]/m.exec(readFileSync('wrangler.toml', 'utf8'))?.[1] ?? '';
  return new Set([...list.matchAll(/"([A-Z0-9_]+)"/g)].map((m) => m[1] as string));
}

async function waitForHealth(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/health`);
      if (res.status === 200 || res.status === 503) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  log(`the gateway did not answer ${url}/health within ${timeoutMs / 1000} s`);
}

main().catch((err) => {
  log(`failed to start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
