import { describe, expect, it } from 'vitest';
import { createLogger, type LogLevel } from '../../lib/log';

function capture(options: Parameters<typeof createLogger>[0] = {}) {
  const lines: { level: LogLevel; entry: Record<string, unknown>; raw: string }[] = [];
  const log = createLogger({
    ...options,
    sink: (level, raw) => lines.push({ level, raw, entry: JSON.parse(raw) }),
  });
  return { log, lines };
}

describe('createLogger', () => {
  it('writes one JSON object per line with level, message, time and fields', () => {
    const { log, lines } = capture({ fields: { request_id: 'req_1' } });
    log.info('hello', { status: 200 });
    expect(lines).toHaveLength(1);
    expect(lines[0]?.entry).toMatchObject({ level: 'info', msg: 'hello', request_id: 'req_1', status: 200 });
    expect(Date.parse(String(lines[0]?.entry.time))).not.toBeNaN();
  });

  it('drops lines below the configured level', () => {
    const { log, lines } = capture({ level: 'warn' });
    log.debug('a');
    log.info('b');
    log.warn('c');
    log.error('d');
    expect(lines.map((l) => [l.level, l.entry.msg])).toEqual([
      ['warn', 'c'],
      ['error', 'd'],
    ]);
  });

  it('redacts fields named like credentials, at any depth', () => {
    const { log, lines } = capture();
    log.info('call', {
      headers: { Authorization: 'Bearer abc', 'x-api-key': 'k' },
      upstream: [{ token: 't', model: 'gpt-6-luna' }],
    });
    expect(lines[0]?.entry).toMatchObject({
      headers: { Authorization: '[redacted]', 'x-api-key': '[redacted]' },
      upstream: [{ token: '[redacted]', model: 'gpt-6-luna' }],
    });
  });

  it('masks known secret values wherever they appear, errors included', () => {
    const { log, lines } = capture({ secrets: ['sk-live-0123456789', 'short'] });
    log.error('failed', { cause: new Error('401 Incorrect API key provided: sk-live-0123456789') });
    expect(lines[0]?.raw).not.toContain('sk-live-0123456789');
    expect(lines[0]?.entry.cause).toEqual({
      name: 'Error',
      message: '401 Incorrect API key provided: [redacted]',
    });
  });

  it('child loggers keep the parent fields, level and secrets', () => {
    const { log, lines } = capture({ level: 'info', fields: { a: 1 }, secrets: ['secret-value-1'] });
    const child = log.child({ b: 2 });
    child.debug('hidden');
    child.info('seen secret-value-1');
    expect(lines).toHaveLength(1);
    expect(lines[0]?.entry).toMatchObject({ a: 1, b: 2, msg: 'seen [redacted]' });
  });
});
