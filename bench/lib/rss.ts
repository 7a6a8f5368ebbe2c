/**
 * Resident memory of processes, read from /proc/<pid>/status (Linux only): what a Worker's isolate
 * really occupies under `wrangler dev`, which does not enforce Workers' 128 MB. A sampler polls every
 * few milliseconds and keeps the peak, so a request's short-lived copies are seen, not only what is
 * left once it is over.
 */
import { readFileSync } from 'node:fs';

/** VmRSS of `pid` in bytes; 0 when the process is gone. */
export function rssBytes(pid: number): number {
  try {
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** The summed VmRSS of `pids`. */
export const totalRss = (pids: number[]): number => pids.reduce((sum, pid) => sum + rssBytes(pid), 0);

export interface RssSampler {
  /** Stops sampling; the highest total seen since the start, and each process's own peak. */
  stop(): { peakBytes: number; peakByPid: Record<number, number>; samples: number };
}

/** Samples the summed RSS of `pids` every `intervalMs` until stopped. */
export function sampleRss(pids: number[], intervalMs = 5): RssSampler {
  let peakBytes = 0;
  const peakByPid: Record<number, number> = {};
  let samples = 0;
  const sample = () => {
    let total = 0;
    for (const pid of pids) {
      const rss = rssBytes(pid);
      total += rss;
      peakByPid[pid] = Math.max(peakByPid[pid] ?? 0, rss);
    }
    peakBytes = Math.max(peakBytes, total);
    samples += 1;
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return { peakBytes, peakByPid, samples };
    },
  };
}

/** The median of `count` samples taken `intervalMs` apart: a steady baseline to measure growth from. */
export async function steadyRss(pids: number[], count = 20, intervalMs = 25): Promise<number> {
  const values: number[] = [];
  for (let i = 0; i < count; i++) {
    values.push(totalRss(pids));
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  values.sort((a, b) => a - b);
  return values[Math.floor(values.length / 2)] as number;
}

/** Bytes as MB (10^6), one decimal. */
export const mb = (bytes: number): number => Math.round(bytes / 100_000) / 10;
