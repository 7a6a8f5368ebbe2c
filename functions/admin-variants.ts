import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../lib/app-env';
import { dayClockOf, shiftDay } from '../lib/budget';
import { nanosToUsd } from '../lib/pricing';
import { valid } from '../lib/validate';
import { readVariants, type VariantTask, type VariantTotals } from '../lib/variants';

const VARIANT_TASKS: VariantTask[] = ['opportunities', 'creatives', 'vision'];

export const ReportQuery = z.object({
  /** Budget days to sum, today included. */
  days: z.coerce.number().int().min(1).max(35).default(7),
});

/**
 * `GET /admin/variants`: each prompt variant's generations, rejections (moderation or output invalid
 * after its repair), rejection rate and cost over the last `days` budget days, next to its configured
 * weight. Variants no longer configured still show what they did. One Redis round trip.
 */
export const adminVariants = new Hono<AppEnv>().get(
  '/admin/variants',
  valid('query', ReportQuery),
  async (c) => {
    const env = c.get('env');
    const { days } = c.req.valid('query');
    const today = dayClockOf(env.BUDGET_TIMEZONE).at(c.get('deps').now()).day;
    const window = Array.from({ length: days }, (_, i) => shiftDay(today, -i));
    const totals = await readVariants(c.get('deps').redis, VARIANT_TASKS, window);
    const tasks = Object.fromEntries(
      VARIANT_TASKS.map((task) => {
        const configured = env.PROMPT_VARIANTS[task] ?? [];
        const names = [...new Set([...configured.map((v) => v.name), ...Object.keys(totals[task] ?? {})])];
        const rows = names.map((name) =>
          row(name, configured.find((v) => v.name === name)?.weight ?? null, totals[task]?.[name]),
        );
        return [task, rows];
      }),
    );
    return c.json({ from: window.at(-1), to: today, tasks });
  },
);

function row(name: string, weight: number | null, totals: VariantTotals | undefined) {
  const { generated = 0, rejected = 0, costNanos = 0 } = totals ?? {};
  return {
    name,
    /** null: recorded in the window but no longer configured. */
    weight,
    generated,
    rejected,
    rejection_rate: generated ? rejected / generated : null,
    cost_usd: nanosToUsd(costNanos),
    avg_cost_usd: generated ? nanosToUsd(costNanos) / generated : null,
  };
}
