import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface SpawnedService {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts one of the dev/ CLIs as its own Node process (as `npm run dev` would) and resolves with
 * the URL from its "listening on http://…" line. A separate process keeps the service out of the
 * Worker project's module graph, which is bundled for workerd, not Node.
 */
export function spawnService(script: string, env: Record<string, string>, timeoutMs = 20_000) {
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise<SpawnedService>((resolve, reject) => {
    const timer = setTimeout(
      () => fail(new Error(`${script} did not start within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    };
    child.once('exit', (code) => fail(new Error(`${script} exited with code ${code} before listening`)));
    createInterface({ input: child.stdout as NonNullable<ChildProcess['stdout']> }).on('line', (line) => {
      const url = /listening on (http:\/\/\S+)/.exec(line)?.[1];
      if (!url) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve({ url, stop: () => stopChild(child) });
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
