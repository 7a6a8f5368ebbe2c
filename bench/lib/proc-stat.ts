/**
 * CPU time of processes from `/proc/<pid>/stat` (Linux), for CPU per request (#18): read the workerd
 * processes before and after a measurement and divide the difference by the requests served.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Clock ticks of user and system time, for every thread of the process together. */
export interface CpuTicks {
  utime: number;
  stime: number;
}

/**
 * Fields 14 and 15 (utime, stime) of a `/proc/<pid>/stat` line. The command name (field 2) is in
 * parentheses and may itself hold spaces or ')', so fields are counted from the last ')'.
 */
export function parseCpuTicks(stat: string): CpuTicks {
  const close = stat.lastIndexOf(')');
  if (close < 0) throw new Error(`not a /proc/<pid>/stat line: ${stat.slice(0, 80)}`);
  // After ") " comes field 3 (state), so field n is at index n - 3.
  const fields = stat
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  if (!Number.isInteger(utime) || !Number.isInteger(stime)) {
    throw new Error(`no utime/stime in /proc/<pid>/stat: ${stat.slice(0, 80)}`);
  }
  return { utime, stime };
}

let ticksPerSecond: number | undefined;

/** `getconf CLK_TCK` (100 on every Linux we run on; asked once, not assumed). */
function clockTicks(): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return ticksPerSecond;
}

/**
 * Milliseconds of CPU (user + system) each process has used so far; a process that is gone counts
 * 0, so compare snapshots of the same pids only while they live.
 */
export function cpuMsByPid(pids: number[]): Map<number, number> {
  const msPerTick = 1000 / clockTicks();
  const byPid = new Map<number, number>();
  for (const pid of pids) {
    try {
      const { utime, stime } = parseCpuTicks(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      byPid.set(pid, (utime + stime) * msPerTick);
    } catch {
      byPid.set(pid, 0);
    }
  }
  return byPid;
}

/** CPU ms spent between two snapshots, summed over the pids present in both. */
export function cpuMsBetween(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, ms] of after) {
    const start = before.get(pid);
    if (start !== undefined && ms >= start) total += ms - start;
  }
  return total;
}
