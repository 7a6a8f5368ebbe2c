import { describe, expect, it } from 'vitest';
import type { CpuResult } from '../../bench/cpu.ts';
import { classify, judgeSoak } from '../../bench/drills/soak-verdict.ts';
import { perRequest, withinFactor } from '../../bench/lib/accounting.ts';
import { cpuTargetRows } from '../../bench/lib/cpu-report.ts';
import { listeningPorts } from '../../bench/lib/floor.ts';
import { cpuMsBetween, cpuMsByPid, parseCpuTicks } from '../../bench/lib/proc-stat.ts';

// The pure parts of #18's measurements: /proc parsing, per-request accounting, the targets and the
// soak's pass criteria.

describe('parseCpuTicks (/proc/<pid>/stat)', () => {
  // Fields 14 and 15 after a command name with spaces and a ')' of its own.
  const line =
    '4242 (work (er) d) S 1 4242 4242 0 -1 4194560 5000 0 12 0 731 259 0 0 20 0 9 0 123456 1048576 2048 18446744073709551615';

  it('reads utime and stime counting fields from the last parenthesis', () => {
    expect(parseCpuTicks(line)).toEqual({ utime: 731, stime: 259 });
  });

  it('refuses a line without them rather than returning zeros', () => {
    expect(() => parseCpuTicks('4242 (workerd) S 1 2')).toThrow(/utime/);
    expect(() => parseCpuTicks('garbage')).toThrow(/not a/);
  });

  it("sees this process's own CPU grow while it works, as much as Node's own count", () => {
    const before = cpuMsByPid([process.pid]);
    // Spin for 150 ms of CPU (not wall time: a loaded machine may give this process less).
    const start = process.cpuUsage();
    let used = 0;
    while (used < 150) {
      const { user, system } = process.cpuUsage(start);
      used = (user + system) / 1000;
    }
    const spent = cpuMsBetween(before, cpuMsByPid([process.pid]));
    // /proc counts in clock ticks (10 ms) and includes every thread, so at least 150 less a tick or two.
    expect(spent).toBeGreaterThanOrEqual(130);
  });
});

describe('cpuMsBetween', () => {
  it('sums over the pids of both snapshots and skips one that ended (read as 0)', () => {
    const before = new Map([
      [1, 100],
      [2, 50],
      [3, 70],
    ]);
    const after = new Map([
      [1, 160],
      [2, 55],
      [3, 0],
      [4, 999],
    ]);
    expect(cpuMsBetween(before, after)).toBe(65);
  });
});

describe('perRequest', () => {
  const bridge = (requests: number, commands: number) => ({ requests, commands });

  it('divides CPU, round trips and commands by the responses', () => {
    expect(perRequest({ before: bridge(10, 40), after: bridge(310, 1_040) }, 450, 150)).toEqual({
      cpuMs: 3,
      roundTrips: 2,
      commands: 6.67,
    });
  });

  it('throws when nothing was served or the bridge counters were reset', () => {
    expect(() => perRequest({ before: bridge(0, 0), after: bridge(5, 5) }, 10, 0)).toThrow(/no requests/);
    expect(() => perRequest({ before: bridge(500, 900), after: bridge(3, 4) }, 10, 10)).toThrow(/backwards/);
  });
});

describe('withinFactor', () => {
  it('meets at exactly the factor and misses just above it', () => {
    expect(withinFactor(1.2, 1, 1.2)).toEqual({ ratio: 1.2, met: true });
    expect(withinFactor(1.21, 1, 1.2)).toEqual({ ratio: 1.21, met: false });
    expect(withinFactor(5, 0, 2).met).toBe(false);
  });
});

describe('cpuTargetRows', () => {
  const path = (name: string, cpuMs: number) => ({
    name,
    load: {} as CpuResult['runs'][number]['paths'][number]['load'],
    perRequest: { cpuMs, roundTrips: 0, commands: 0 },
    totals: { cpuMs: 0, roundTrips: 0, commands: 0 },
  });

  it('judges the hit against 1.2× and the proxy against 2× the floor, per bridge latency', () => {
    const result = {
      runs: [
        { bridgeLatencyMs: 0, paths: [path('floor', 1), path('hit', 1.1), path('proxy', 2.5)] },
        { bridgeLatencyMs: 20, paths: [path('floor', 1), path('hit', 1.3), path('proxy', 1.9)] },
      ],
    } as CpuResult;
    expect(cpuTargetRows(result).map((r) => [r.target.slice(0, 9), r.met])).toEqual([
      ['cache-hit', true],
      ['proxy CPU', false],
      ['cache-hit', false],
      ['proxy CPU', true],
    ]);
  });

  it('shows each round against the floor round before it, the verdict staying with the pooled ratio', () => {
    const rounds = (name: string, cpuMs: number, roundsCpuMs: number[]) => ({
      ...path(name, cpuMs),
      roundsCpuMs,
    });
    const result = {
      runs: [
        {
          bridgeLatencyMs: 0,
          paths: [
            rounds('floor', 1, [1, 0.8, 1.2, 1]),
            rounds('hit', 1.25, [1.1, 1.2, 1.2, 1.5]),
            path('proxy', 2),
          ],
        },
      ],
    } as CpuResult;
    const [hit, proxy] = cpuTargetRows(result);
    // Ratios 1.1, 1.5, 1, 1.5: median 1.3 between 1 and 1.5; the pooled 1.25 misses 1.2.
    expect(hit).toMatchObject({
      met: false,
      measured: '1.25 ms vs 1 ms (×1.25; round by round ×1.3 [1–1.5])',
    });
    // No rounds (older results): the pooled ratio alone.
    expect(proxy?.measured).toBe('2 ms vs 1 ms (×2)');
  });

  it('counts a path that was not measured as missed', () => {
    const result = {
      runs: [{ bridgeLatencyMs: 0, paths: [path('floor', 1), path('hit', 1)] }],
      proxySkipped: 'POST /openai/v1/chat/completions answered 404',
    } as CpuResult;
    const proxy = cpuTargetRows(result).find((r) => r.target.startsWith('proxy'));
    expect(proxy).toMatchObject({ met: false, measured: expect.stringContaining('answered 404') });
  });
});

describe('listeningPorts (/proc/<pid>/net/tcp)', () => {
  const table = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 51234 1 0000000000000000 100 0 0 10 0',
    '   1: 0100007F:9C40 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 51299 1 0000000000000000 20 4 30 10 -1',
  ].join('\n');

  it('maps the inodes of LISTEN sockets to their ports and skips the rest', () => {
    expect(listeningPorts(table)).toEqual(new Map([[51234, 8080]]));
  });
});

describe('the soak verdict', () => {
  it('classifies a 503 with Retry-After as shed, without as an error', () => {
    expect(classify(200, {})).toBe('served');
    expect(classify(503, { 'Retry-After': '1' })).toBe('shed');
    expect(classify(503, {})).toBe('error');
    expect(classify(429, { 'retry-after': '1' })).toBe('error');
  });

  const base = {
    attempts: 10_000,
    shed: 0,
    errors: 0,
    servedP99Ms: 900,
    workerdKib: { middle: 100_000, end: 105_000 },
  };

  it('passes a run whose only errors are shed 503s within 1 %', () => {
    expect(judgeSoak({ ...base, shed: 100 }).ok).toBe(true);
  });

  it('fails on one error that is not shed, on shed above 1 %, on p99 over 3 s and on 10 % growth', () => {
    expect(judgeSoak({ ...base, errors: 1 }).ok).toBe(false);
    expect(judgeSoak({ ...base, shed: 101 }).ok).toBe(false);
    expect(judgeSoak({ ...base, servedP99Ms: 3_001 }).ok).toBe(false);
    expect(judgeSoak({ ...base, workerdKib: { middle: 100_000, end: 110_001 } }).ok).toBe(false);
    expect(judgeSoak({ ...base, workerdKib: { middle: 100_000, end: 110_000 } }).ok).toBe(true);
  });

  it('fails a run that served nothing instead of passing on an empty p99', () => {
    expect(judgeSoak({ ...base, attempts: 50, shed: 0, errors: 50, servedP99Ms: 0 }).ok).toBe(false);
    expect(judgeSoak({ ...base, attempts: 0, servedP99Ms: 0 }).ok).toBe(false);
  });
});
