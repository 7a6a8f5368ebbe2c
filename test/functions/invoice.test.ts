import { describe, expect, it } from 'vitest';
import { uniqueWord } from '../../dev/unique-word';
import { bindings } from '../support/env';
import { freshCaller } from '../support/gateway';
import { captureLogs } from '../support/logs';
import { simConfigure } from '../support/providers';
import { proxyCaller, sseEvents, warmTokenizer } from './openai-proxy.support';

warmTokenizer();

interface InvoiceLine {
  endpoint: string;
  request_id: string | null;
  abandoned: boolean;
  reasoning_tokens: number;
  usd: number;
}

/** The simulator's invoice lines for one API key. */
async function invoiceLines(sim: string): Promise<InvoiceLine[]> {
  const res = await fetch(`${bindings.SIMULATOR_URL}/_sim/invoice?key=${sim}`);
  return ((await res.json()) as { lines: InvoiceLine[] }).lines;
}

/** What the ledger logged for `requestId` (`spend settled` lines), and what the provider billed it. */
function ledgerAndBill(logs: Record<string, unknown>[], lines: InvoiceLine[], requestId: string) {
  const settled = logs.filter((l) => l.msg === 'spend settled' && l.request_id === requestId);
  const billed = lines.filter((l) => l.request_id === requestId);
  return {
    settled,
    billed,
    ledgerUsd: settled.reduce((sum, l) => sum + (l.cost_usd as number), 0),
    billUsd: billed.reduce((sum, l) => sum + l.usd, 0),
  };
}

// The simulator prices from its own table, the gateway from its own: they must agree to the cent's
// hundredth on every call the gateway saw to its end.
const AGREE = (bill: number) => Math.max(bill * 0.01, 0.0001);

describe("the ledger against the provider's invoice", () => {
  it('sends its request id upstream with every call and logs each reservation at what the provider billed', async () => {
    const { post, sim } = await freshCaller('/v1/opportunities');
    let requestId = '';
    const logs = await captureLogs(async () => {
      const res = await post({ intent: `Trail boots for a muddy spring ${uniqueWord()}` });
      expect(res.status).toBe(200);
      requestId = res.headers.get('x-request-id') ?? '';
    });
    const lines = await invoiceLines(sim);
    const { settled, billed, ledgerUsd, billUsd } = ledgerAndBill(logs, lines, requestId);
    // The structured call, and the moderation calls (free), all under the request's id.
    expect(billed.map((l) => l.endpoint)).toContain('/v1/responses');
    expect(lines.every((l) => l.request_id === requestId)).toBe(true);
    expect(settled).toHaveLength(1);
    expect(billUsd).toBeGreaterThan(0);
    expect(Math.abs(ledgerUsd - billUsd)).toBeLessThanOrEqual(AGREE(billUsd));
  });

  it('agrees with the bill of a reasoning model on the realistic profile, streamed or not, even when the client cut the stream', async () => {
    const { raw, sim, settled } = await proxyCaller();
    await simConfigure(sim, { profile: 'realistic', time_scale: 0.001 });
    const body = {
      model: 'gpt-6-luna',
      input: `Write a blurb for a rain jacket ${uniqueWord()}`,
      max_output_tokens: 4000,
      reasoning: { effort: 'medium' },
    };
    const ids: string[] = [];
    const logs = await captureLogs(async () => {
      const plain = await raw('/responses', body);
      expect(plain.status).toBe(200);
      ids.push(plain.headers.get('x-request-id') ?? '');
      await plain.text();
      const streamed = await raw('/responses', { ...body, stream: true });
      ids.push(streamed.headers.get('x-request-id') ?? '');
      await sseEvents(streamed);
      const cut = await raw('/responses', { ...body, input: `${body.input} again`, stream: true });
      ids.push(cut.headers.get('x-request-id') ?? '');
      const reader = (cut.body as ReadableStream<Uint8Array>).getReader();
      await reader.read();
      await reader.cancel();
      // The gateway reads the cut stream on to its end for the usage, after the response: wait for it.
      await settled();
    });
    const lines = await invoiceLines(sim);
    for (const id of ids) {
      const { settled, billed, ledgerUsd, billUsd } = ledgerAndBill(logs, lines, id);
      expect(billed).toHaveLength(1);
      expect(billed[0]?.reasoning_tokens).toBeGreaterThan(0);
      // Read to its end, even when the client went away: the provider's line is not an abandoned one.
      expect(billed[0]?.abandoned).toBe(false);
      expect(settled).toHaveLength(1);
      expect(settled[0]?.estimated).toBe(false);
      expect(Math.abs(ledgerUsd - billUsd)).toBeLessThanOrEqual(AGREE(billUsd));
    }
  });
});
