/**
 * The generation pipeline without Hono: plan → reserve → call → finish → settle, on services built
 * from a hand-written scope, against the real Redis and the simulator.
 */

import { describe, expect, it } from 'vitest';
import { uniqueWord } from '../../dev/unique-word';
import { produceCreative } from '../../lib/creatives/pipeline';
import { CreativeRequest } from '../../lib/creatives/schema';
import { CreativeRejectedError } from '../../lib/errors';
import { generate } from '../../lib/generation';
import { createServices } from '../../lib/services';
import { simRequests } from '../support/providers';
import { ANSWER_TASK, KEY, scopeFor } from '../support/services';

const TASK = ANSWER_TASK;

describe('generate', () => {
  it('reserves, calls, finishes and settles exactly what the ledger says was billed', async () => {
    const { scope, sim, settled } = scopeFor({ ...KEY, id: `key_${crypto.randomUUID().slice(0, 24)}` });
    const services = createServices(scope);
    const made = await generate(services, {
      policyTask: 'opportunities',
      task: TASK,
      finish: async (data, { ledger }) => {
        ledger.add(1_000);
        return data.answer.toUpperCase();
      },
    });
    await settled();
    expect(made.data).toBe(made.data.toUpperCase());
    expect(made.served.provider).toBe('openai');
    expect(made.costNanos).toBeGreaterThan(1_000);
    const { scopes } = await services.budget().read([`key:${scope.principal().id}`]);
    expect(scopes[0]).toMatchObject({ spentNanos: made.costNanos, reservedNanos: 0, calls: 1 });
    expect((await simRequests(sim))['/v1/responses']).toBe(1);
  });

  it('settles what a refused output cost, and hands the refusal on', async () => {
    const { scope, settled } = scopeFor({ ...KEY, id: `key_${crypto.randomUUID().slice(0, 24)}` });
    const services = createServices(scope);
    const refused = generate(services, {
      policyTask: 'opportunities',
      task: TASK,
      finish: async () => {
        throw new CreativeRejectedError({ message: 'refused by the test' });
      },
    });
    await expect(refused).rejects.toBeInstanceOf(CreativeRejectedError);
    await settled();
    const { scopes } = await services.budget().read([`key:${scope.principal().id}`]);
    expect(scopes[0]?.spentNanos).toBeGreaterThan(0);
    expect(scopes[0]?.reservedNanos).toBe(0);
  });

  it('makes a whole creative, copy and stored image, on services alone', async () => {
    const { scope, sim, settled } = scopeFor({
      ...KEY,
      id: `key_${crypto.randomUUID().slice(0, 24)}`,
      upm: 100,
    });
    const request = CreativeRequest.parse({
      opportunity: { id: 'opp_1', product_category: 'Hiking boots', description: 'Boots for rainy walks' },
      target_audience: `weekend hikers ${uniqueWord()}`,
      brand_voice: 'warm, practical',
      tone: 'playful',
      needs_visual: true,
    });
    const { value, served } = await produceCreative(createServices(scope), request, undefined);
    await settled();
    expect(served.provider).toBe('openai');
    expect(value.moderation.approved).toBe(true);
    expect(value.image?.url).toMatch(/^http:\/\/gateway\/v1\/images\/[0-9a-f]{64}$/);
    expect(await scope.images.head(value.image?.id ?? '')).not.toBeNull();
    expect(await simRequests(sim)).toMatchObject({ '/v1/responses': 1, '/v1/images/generations': 1 });
  });
});
