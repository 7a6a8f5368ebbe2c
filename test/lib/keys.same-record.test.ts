import { describe, expect, it } from 'vitest';
import { type KeyRecord, sameRecord } from '../../lib/keys';

const record: KeyRecord = {
  id: 'key_1',
  name: 'storefront',
  created_at: '2026-12-01T00:00:00.000Z',
  rpm: 600,
  upm: null,
  daily_budget_usd: 5,
  budget_share: null,
  scopes: ['domain', 'proxy'],
  models: null,
  revoked_at: null,
};

describe('sameRecord', () => {
  it('is true for a record read again: equal values, lists item by item', () => {
    expect(sameRecord(record, { ...record, scopes: ['domain', 'proxy'] })).toBe(true);
    expect(sameRecord(record, record)).toBe(true);
  });

  it('is false when any field differs, a list in its items, order or length, or null against a list', () => {
    const changes: Partial<KeyRecord>[] = [
      { name: 'storefront-2' },
      { rpm: 601 },
      { rpm: null },
      { upm: 10 },
      { daily_budget_usd: null },
      { budget_share: 0.5 },
      { scopes: ['proxy', 'domain'] },
      { scopes: ['domain'] },
      { scopes: null },
      { models: ['gpt-6-luna'] },
      { revoked_at: '2026-12-02T00:00:00.000Z' },
      { created_at: '2026-12-01T00:00:01.000Z' },
      { id: 'key_2' },
    ];
    for (const change of changes) {
      expect(sameRecord(record, { ...record, ...change }), JSON.stringify(change)).toBe(false);
      expect(sameRecord({ ...record, ...change }, record), JSON.stringify(change)).toBe(false);
    }
  });
});
