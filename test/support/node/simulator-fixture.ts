import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { type RunningSimulator, type SimConfig, startSimulator } from '../../../dev/openai-sim/index.ts';
import type { InvoiceView } from '../../../dev/openai-sim/invoice.ts';

/** The control API's answers: stats, config acks, or an OpenAI-shaped error. */
export interface ControlAnswer {
  status: number;
  json: {
    error?: { message: string };
    scope?: string;
    config?: SimConfig | null;
    requests?: Record<string, number>;
    faults?: Record<string, number>;
    models?: Record<string, number>;
  };
}

/** Client options a test may set; apiKey, baseURL and maxRetries (0) come from the fixture. */
export interface SimClientOptions {
  timeout?: number;
}

/** Starts a simulator for the file, resets it after each test, closes it after all; returns helpers on it. */
export function useSimulator() {
  let sim: RunningSimulator | undefined;
  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterEach(async () => {
    await control('/_sim/reset', {});
  });
  afterAll(async () => {
    await sim?.close();
  });

  /** The simulator's base URL, without the /v1 of the OpenAI API. */
  const url = () => (sim as RunningSimulator).url;

  /** GETs a control path, or POSTs `body` to it (a string as it is, anything else as JSON). */
  async function control(path: string, body?: unknown): Promise<ControlAnswer> {
    const res = await fetch(`${url()}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as ControlAnswer['json'] };
  }

  /** An OpenAI client on the simulator that sends `apiKey` and never retries. */
  function clientFor(apiKey: string, options: SimClientOptions = {}) {
    return new OpenAI({ apiKey, baseURL: `${url()}/v1`, maxRetries: 0, ...options });
  }

  /** A fresh key with its own scoped config, so tests never see each other's faults. */
  async function scopedClient(config: SimConfig, options: SimClientOptions = {}) {
    const key = `sim-${randomUUID()}`;
    const set = await control(`/_sim/config?key=${key}`, config);
    expect(set.status).toBe(200);
    return { key, client: clientFor(key, options) };
  }

  /** `GET /_sim/invoice`, scoped to `key` when given. */
  async function invoice(key?: string): Promise<InvoiceView> {
    const res = await fetch(`${url()}/_sim/invoice${key === undefined ? '' : `?key=${key}`}`);
    expect(res.status).toBe(200);
    return (await res.json()) as InvoiceView;
  }

  /**
   * The invoice of `key` once it has `lines` lines. A line can be written just after the client has gone
   * (the simulator bills an abandoned request when it sees the disconnect), so this polls, up to a deadline.
   */
  async function invoiceWith(key: string, lines: number, deadlineMs = 5_000): Promise<InvoiceView> {
    const until = Date.now() + deadlineMs;
    for (;;) {
      const view = await invoice(key);
      if (view.lines.length >= lines || Date.now() > until) return view;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  return { url, control, clientFor, scopedClient, invoice, invoiceWith };
}
