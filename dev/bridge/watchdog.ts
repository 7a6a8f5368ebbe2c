import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * Runs a server process that cannot outlive us, however we die. Exit handlers do not run when the
 * parent is SIGKILLed or terminated by a signal it does not handle (vitest ends its workers that way),
 * so on POSIX the server runs under a small `sh` watchdog that holds our end of a stdin pipe: when that
 * pipe closes (we exited, crashed or called `stop`), it kills the server. The shell exits with the
 * server's status, so an early exit (e.g. port in use) is seen at once.
 */
export interface WatchedProcess {
  /** The shell (or, on Windows, the server itself). */
  child: ChildProcess;
  /** The server's own pid. */
  pid: number;
  /** Resolves when the server has exited. */
  exited: Promise<void>;
  /** Stops the server: SIGTERM, then SIGKILL after `timeoutMs`. Idempotent. */
  stop(timeoutMs: number): Promise<void>;
}

// The background subshell's stdin would be /dev/null (POSIX, for `&` lists), hence fd 4.
const WATCHDOG_SCRIPT = [
  'exec 4<&0',
  '"$@" & pid=$!',
  'echo "$pid" >&3',
  '( while read -r _; do :; done; kill "$pid" 2>/dev/null ) <&4 &',
  'watcher=$!',
  'wait "$pid"; status=$?',
  'kill "$watcher" 2>/dev/null',
  'exit "$status"',
].join('\n');

/** Spawns `binary args…` under the watchdog; `onOutput` receives its stdout and stderr. */
export async function spawnWatched(
  binary: string,
  args: string[],
  onOutput: (chunk: string) => void,
): Promise<WatchedProcess> {
  const direct = process.platform === 'win32';
  const child = direct
    ? spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn('/bin/sh', ['-c', WATCHDOG_SCRIPT, 'redis-watchdog', binary, ...args], {
        stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
      });
  child.stdout?.on('data', (chunk: Buffer) => onOutput(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => onOutput(chunk.toString()));
  const shellExited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pid = direct ? (child.pid ?? 0) : await readPid(child, shellExited);

  const killOnExit = () => {
    signal(pid, 'SIGKILL');
    child.kill('SIGKILL');
  };
  process.on('exit', killOnExit);
  // The shell waits for the server, so its exit means the server's. If the shell died first (a Ctrl-C
  // reaches the whole process group), poll the server itself.
  const exited = shellExited.then(() => waitUntilGone(pid));
  let stopping: Promise<void> | undefined;

  return {
    child,
    pid,
    exited,
    stop(timeoutMs) {
      stopping ??= (async () => {
        child.stdin?.end();
        signal(pid, 'SIGTERM');
        const timer = setTimeout(killOnExit, timeoutMs);
        await exited;
        clearTimeout(timer);
        process.off('exit', killOnExit);
      })();
      return stopping;
    },
  };
}

function readPid(child: ChildProcess, exited: Promise<void>): Promise<number> {
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdio[3]?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\n')) resolve(Number.parseInt(text, 10));
    });
    void exited.then(() => reject(new Error(`the watchdog exited with code ${child.exitCode}`)));
  });
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

// Bounded, in case a zombie is never reaped and /proc cannot tell (not Linux).
async function waitUntilGone(pid: number, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

/**
 * Whether a process is alive. A zombie (exited, not yet reaped by its new parent) still answers
 * kill(pid, 0), so it counts as gone; where /proc cannot tell, the process counts as alive.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}
