import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isAlive } from '../../dev/bridge/watchdog.ts';

/** The repository root: scripts are run from it, as npm runs them (dev/start.ts reads wrangler.toml). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A Node child process started by the bench, with its output kept for error messages. */
export interface NodeChild {
  child: ChildProcess;
  pid: number;
  /** The last 20 kB the process printed (stdout and stderr). */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

const OUTPUT_LIMIT = 20_000;
const started = new Set<number>();

// A bench that crashes or is interrupted must not leave servers behind on the shared machine.
process.on('exit', () => {
  for (const pid of started) signal(pid, 'SIGKILL');
});

/**
 * Runs `node <script>` (relative to the repository root, which is also its cwd) and resolves once a line of its output matches `ready`. Rejects (after killing
 * it) when it exits first, prints `[ERROR]` (wrangler keeps running after a build error), or takes
 * longer than `timeoutMs`. Its output is piped and drained, so a chatty child never blocks on a full pipe.
 * (test/support/node/spawn-service.ts does the same for tests but inherits stderr and hides the pid.)
 */
export async function startNode(
  script: string,
  env: Record<string, string | undefined>,
  ready: RegExp,
  timeoutMs = 30_000,
  args: string[] = [],
): Promise<NodeChild> {
  const child = spawn(process.execPath, [script, ...args], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const append = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const pid = child.pid ?? 0;
  started.add(pid);
  let stopping: Promise<void> | undefined;
  const handle: NodeChild = {
    child,
    pid,
    output: () => output,
    stop(graceMs = 10_000) {
      stopping ??= stopProcess(child, graceMs).then(() => void started.delete(pid));
      return stopping;
    },
  };
  const deadline = Date.now() + timeoutMs;
  while (!ready.test(output)) {
    if (child.exitCode !== null || child.signalCode !== null || /\[ERROR\]/.test(output)) break;
    if (Date.now() > deadline) break;
    await sleep(50);
  }
  if (!ready.test(output)) {
    await handle.stop(2_000);
    throw new Error(`${script} did not become ready (${ready}):\n${output}`);
  }
  return handle;
}

function stopProcess(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Every live descendant of `pid` (children, grandchildren, …) with its command name. Linux only. */
export function descendants(pid: number): { name: string; pid: number }[] {
  const parentOf = new Map<number, { ppid: number; name: string }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // "pid (comm) state ppid …"; comm may contain spaces or parentheses, so split at the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const name = stat.slice(stat.indexOf('(') + 1, close);
      const [state, ppid] = stat.slice(close + 2).split(' ');
      if (state !== 'Z') parentOf.set(Number(entry), { ppid: Number(ppid), name });
    } catch {
      // the process ended while we looked
    }
  }
  const found: { name: string; pid: number }[] = [];
  const queue = [pid];
  while (queue.length) {
    const parent = queue.shift() as number;
    for (const [child, info] of parentOf) {
      if (info.ppid !== parent) continue;
      found.push({ name: info.name, pid: child });
      queue.push(child);
    }
  }
  return found;
}

/** Waits up to `timeoutMs` for each pid to end, then SIGKILLs those still alive (only pids we started). */
export async function reap(pids: number[], timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(isAlive) && Date.now() < deadline) await sleep(50);
  for (const pid of pids) if (isAlive(pid)) signal(pid, 'SIGKILL');
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
