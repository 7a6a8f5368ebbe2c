import type { SimConfig } from './config.ts';
import type { FrameTokens } from './meter.ts';
import { isRealistic, type Pace, realisticPace, timeScaleOf } from './profile.ts';
import type { RouteResult } from './routes.ts';

/** When each part of an answer may be sent, and how much output exists at any moment. */
export interface Schedule {
  /** Ms after generation started at which each frame (or a JSON body: one entry) may be written. */
  frameAtMs: number[];
  /** Output generated `ms` after the start: frames already due in full, the next one in proportion. */
  generatedAt(ms: number): { outputTokens: number; reasoningTokens: number };
}

/**
 * Frame i is due at `startMs + (tokens of frames 0..i) × msPerToken + i × intervalMs`: with a realistic pace
 * tokens set the rhythm; with `stream_interval_ms` the frames go that far apart; with neither, all at once.
 * The tokens of frame i are generated between frame i-1 and frame i, reasoning before visible text, so a
 * stream cut at any moment has generated at least what was sent.
 */
export function buildSchedule(
  frameCount: number,
  pace: Pace,
  intervalMs: number,
  frameTokens: readonly FrameTokens[] = [],
): Schedule {
  const frameAtMs: number[] = [];
  let tokens = 0;
  for (let i = 0; i < frameCount; i += 1) {
    const frame = frameTokens[i];
    tokens += frame ? frame.reasoning + frame.visible : 0;
    frameAtMs.push(pace.startMs + tokens * pace.msPerToken + i * intervalMs);
  }
  return {
    frameAtMs,
    generatedAt(ms) {
      let outputTokens = 0;
      let reasoningTokens = 0;
      for (let i = 0; i < frameCount; i += 1) {
        const frame = frameTokens[i] ?? { reasoning: 0, visible: 0 };
        const due = frameAtMs[i] as number;
        const from = i === 0 ? pace.startMs : (frameAtMs[i - 1] as number);
        const size = frame.reasoning + frame.visible;
        const share = ms >= due ? size : ms <= from ? 0 : Math.floor((size * (ms - from)) / (due - from));
        const reasoning = Math.min(frame.reasoning, share);
        outputTokens += share;
        reasoningTokens += reasoning;
        if (share < size) break;
      }
      return { outputTokens, reasoningTokens };
    },
  };
}

/**
 * When the answer goes: after an explicit latency (`latency_ms` or `x-sim-latency-ms`, which win for the
 * endpoints they name), after the realistic profile's time (profile.ts), or at once. A stream's frames are
 * then paced by `stream_interval_ms` (after the realistic time to first token) or, on the realistic
 * profile, by the tokens each one waits for.
 */
export function scheduleFor(result: RouteResult, config: SimConfig, latency: number | undefined): Schedule {
  const meter = result.kind === 'bytes' ? undefined : result.meter;
  const interval = result.kind === 'sse' ? (config.stream_interval_ms ?? 0) : 0;
  const frames = result.kind === 'sse' ? result.frames.length : 1;
  if (latency !== undefined || !isRealistic(config) || !meter) {
    return buildSchedule(frames, { startMs: latency ?? 0, msPerToken: 0 }, interval, meter?.frameTokens);
  }
  const pace = realisticPace(meter.work, timeScaleOf(config));
  if (result.kind !== 'sse') {
    const outputTokens = meter.work.kind === 'text' ? meter.work.outputTokens : 0;
    return buildSchedule(1, pace, 0, [{ reasoning: 0, visible: outputTokens }]);
  }
  if (interval > 0) return buildSchedule(frames, { ...pace, msPerToken: 0 }, interval, meter.frameTokens);
  return buildSchedule(frames, pace, 0, meter.frameTokens);
}
