import type { Logger } from './log';

/** A budget alert: one per threshold per day, decided atomically by the budget ledger. */
export interface BudgetAlert {
  day: string;
  /** `threshold` at the alert level; `limit` when the whole budget is spent. */
  level: 'threshold' | 'limit';
  thresholdUsd: number;
  spentUsd: number;
  limitUsd: number;
}

/** How long a webhook may take to answer; an alert never holds its request's connections longer. */
export const ALERT_TIMEOUT_MS = 10_000;

export interface AlertDeps {
  log: Pick<Logger, 'warn' | 'error'>;
  /** Slack-compatible incoming webhook; alerts only go to the log without one. */
  webhookUrl?: string;
  /** The invocation's pooled fetch; without one, the global fetch with ALERT_TIMEOUT_MS. */
  fetch?: typeof fetch;
}

/**
 * Logs the alert as a structured warning and, with a webhook configured, POSTs it as Slack-compatible
 * JSON (`text` plus the fields). Never throws: a failed webhook is logged, the request goes on.
 */
export async function sendBudgetAlert(deps: AlertDeps, alert: BudgetAlert): Promise<void> {
  const text =
    alert.level === 'limit'
      ? `commerce-ai-gateway: the daily budget of $${alert.limitUsd.toFixed(2)} for ${alert.day} is spent ($${alert.spentUsd.toFixed(2)}); budgeted calls are refused until the day resets.`
      : `commerce-ai-gateway: spend for ${alert.day} reached $${alert.spentUsd.toFixed(2)}, past the alert threshold of $${alert.thresholdUsd.toFixed(2)} (budget $${alert.limitUsd.toFixed(2)}).`;
  await sendAlert(deps, 'budget', text, { ...alert });
}

/**
 * Any alert: a structured warning in the log and, with a webhook, a Slack-compatible POST (`text` plus
 * the fields). Never throws: a failed webhook is logged.
 */
export async function sendAlert(
  deps: AlertDeps,
  kind: string,
  text: string,
  fields: Record<string, unknown>,
): Promise<void> {
  deps.log.warn(`${kind} alert`, { alert: kind, ...fields });
  if (!deps.webhookUrl) return;
  try {
    const res = await (deps.fetch ?? fetch)(deps.webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text, alert: kind, ...fields }),
      ...(deps.fetch ? {} : { signal: AbortSignal.timeout(ALERT_TIMEOUT_MS) }),
    });
    if (!res.ok) deps.log.error(`${kind} alert webhook failed`, { status: res.status });
  } catch (err) {
    deps.log.error(`${kind} alert webhook failed`, { cause: err });
  }
}
