/**
 * The floor Worker (bench/floor) next to the gateway, under the same `wrangler dev` (#18): wrangler 4
 * runs every `-c` config in one workerd, the first one as the primary. Only the primary is reachable on
 * wrangler's port, so the bench talks to the user workerd's own entry socket, where miniflare picks
 * the Worker by the `MF-Route-Override` header (wrangler's proxy Worker, in front of that socket,
 * consumes the header for itself).
 */
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './processes.ts';

export const FLOOR_NAME = 'bench-floor';
export const GATEWAY_NAME = 'commerce-ai-gateway';
const ROUTE_HEADER = 'MF-Route-Override';

/** Headers that send a request to one Worker of the user workerd. */
export function routeTo(worker: string): Record<string, string> {
  return { [ROUTE_HEADER]: worker };
}

/**
 * Writes the floor's wrangler config into `dir` (its UPSTREAM_URL and LOG_LEVEL are per run) and
 * returns the arguments that add it to `wrangler dev`.
 */
export function floorArgs(dir: string, upstreamUrl: string, logLevel: string): string[] {
  const template = readFileSync(join(REPO_ROOT, 'bench/floor/wrangler.toml'), 'utf8');
  const config = template
    .replace(/^main = .*$/m, `main = ${JSON.stringify(join(REPO_ROOT, 'bench/floor/worker.ts'))}`)
    .replace(/^UPSTREAM_URL = .*$/m, `UPSTREAM_URL = ${JSON.stringify(upstreamUrl)}`)
    .replace(/^LOG_LEVEL = .*$/m, `LOG_LEVEL = ${JSON.stringify(logLevel)}`);
  const path = join(dir, 'floor-wrangler.toml');
  writeFileSync(path, config);
  return ['-c', 'wrangler.toml', '-c', path];
}

/**
 * The local TCP ports in LISTEN state in a `/proc/<pid>/net/tcp` table, keyed by socket inode.
 * Columns: `sl local_address rem_address st … inode`; addresses are hex `IP:PORT`, state 0A is LISTEN.
 */
export function listeningPorts(table: string): Map<number, number> {
  const ports = new Map<number, number>();
  for (const line of table.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 10 || cols[3] !== '0A') continue;
    const port = Number.parseInt(cols[1]?.split(':')[1] ?? '', 16);
    const inode = Number(cols[9]);
    if (port > 0 && inode > 0) ports.set(inode, port);
  }
  return ports;
}

/** Ports `pid` itself listens on (its socket inodes matched against the TCP table). Linux only. */
function portsOf(pid: number): number[] {
  const byInode = listeningPorts(readFileSync(`/proc/${pid}/net/tcp`, 'utf8'));
  const ports: number[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
      const port = inode ? byInode.get(Number(inode)) : undefined;
      if (port) ports.push(port);
    } catch {
      // the descriptor closed while we looked
    }
  }
  return ports;
}

/**
 * The user workerd's entry URL: of the ports the workerd processes listen on, the one where
 * `GET /` routed to the gateway answers with the gateway's own name.
 */
export async function findWorkerEntry(workerdPids: number[]): Promise<string> {
  for (const pid of workerdPids) {
    for (const port of portsOf(pid)) {
      const url = `http://127.0.0.1:${port}`;
      try {
        const res = await fetch(`${url}/`, {
          headers: routeTo(GATEWAY_NAME),
          signal: AbortSignal.timeout(2_000),
        });
        const body = (await res.json()) as { name?: string };
        if (body.name === GATEWAY_NAME) return url;
      } catch {
        // the inspector, the loopback socket or wrangler's proxy: not it
      }
    }
  }
  throw new Error(`no workerd entry socket answers for ${GATEWAY_NAME} (pids ${workerdPids.join(', ')})`);
}
