/**
 * A request's services without Hono: built from a scope written by hand, against the real Redis and
 * the simulator, each capability built once and shared by every call site of the request.
 */
import { describe, expect, it } from 'vitest';
import { createServices } from '../../lib/services';
import { simRequests } from '../support/providers';
import { ANSWER_TASK, KEY, scopeFor } from '../support/services';

describe('createServices', () => {
  it('builds the breaker and the moderation chain once per request, whoever asks', () => {
    const services = createServices(scopeFor().scope);
    expect(services.breaker).toBe(services.breaker);
    expect(services.moderation).toBe(services.moderation);
    expect(services.router().deps.breaker).toBe(services.breaker);
  });

  it("names the key's budget with its figures and the gateway's without them, for a client key", () => {
    const { scopes, describe: name } = createServices(scopeFor().scope).budgetScopes();
    expect(scopes.map((s) => s.scope)).toEqual(['global', `key:${KEY.id}`]);
    expect(scopes[1]?.limit).toBe(1_000_000_000);
    expect(name('global')).toEqual({ name: 'the gateway', shown: false });
    expect(name(`key:${KEY.id}`)).toEqual({ name: `key ${KEY.id}`, shown: true });
  });

  it('spends through the budget with the units taken alongside, and calls the provider it built', async () => {
    const { scope, sim, headers, settled } = scopeFor();
    const services = createServices(scope);
    const task = ANSWER_TASK;
    const globalScope = `services-${crypto.randomUUID()}`;
    const made = await services
      .spend({ globalScope, units: 2 })
      .run(1_000_000, () => services.providers().structured(task), { value: () => 1 });
    await settled();
    expect(made.data.answer.length).toBeGreaterThan(0);
    expect(headers.get('x-ratelimit-remaining-units')).toBe('1');
    expect((await simRequests(sim))['/v1/responses']).toBe(1);
    // Two more units than are left: refused before any call.
    await expect(
      services
        .spend({ units: 2 })
        .run(1_000_000, () => services.providers().structured(task), { value: () => 1 }),
    ).rejects.toMatchObject({ code: 'unit_limit_exceeded' });
    await settled();
    expect((await simRequests(sim))['/v1/responses']).toBe(1);
    // The refused request's reservation was given back.
    expect((await services.budget({ globalScope }).read([globalScope])).scopes[0]?.reservedNanos).toBe(0);
  });
});
