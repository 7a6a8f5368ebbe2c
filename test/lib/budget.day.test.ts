import { describe, expect, it } from 'vitest';
import { budgetDay, createDayClock, dayClockOf, shiftDay } from '../../lib/budget';
import { isDay, landingDays } from '../../lib/budget/day';

const at = (iso: string) => Date.parse(iso);
const HOUR = 3_600_000;

describe('budgetDay', () => {
  it('turns over at midnight UTC by default', () => {
    expect(budgetDay(at('2026-11-27T23:59:59.999Z'), 'UTC')).toEqual({
      day: '2026-11-27',
      resetsAt: '2026-11-28T00:00:00.000Z',
    });
    expect(budgetDay(at('2026-11-28T00:00:00.000Z'), 'UTC')).toEqual({
      day: '2026-11-28',
      resetsAt: '2026-11-29T00:00:00.000Z',
    });
    expect(budgetDay(at('2026-12-31T12:00:00Z'), 'UTC').resetsAt).toBe('2027-01-01T00:00:00.000Z');
  });

  it('follows local midnight in America/New_York, in winter and in summer', () => {
    expect(budgetDay(at('2026-11-28T04:59:59.999Z'), 'America/New_York')).toEqual({
      day: '2026-11-27',
      resetsAt: '2026-11-28T05:00:00.000Z',
    });
    expect(budgetDay(at('2026-11-28T05:00:00.000Z'), 'America/New_York').day).toBe('2026-11-28');
    expect(budgetDay(at('2026-07-01T03:59:59.999Z'), 'America/New_York')).toEqual({
      day: '2026-06-30',
      resetsAt: '2026-07-01T04:00:00.000Z',
    });
  });

  it('follows a half-hour offset in Asia/Kolkata', () => {
    expect(budgetDay(at('2026-11-27T18:29:59.999Z'), 'Asia/Kolkata')).toEqual({
      day: '2026-11-27',
      resetsAt: '2026-11-27T18:30:00.000Z',
    });
    expect(budgetDay(at('2026-11-27T18:30:00.000Z'), 'Asia/Kolkata')).toEqual({
      day: '2026-11-28',
      resetsAt: '2026-11-28T18:30:00.000Z',
    });
  });

  it('gives the 23-hour and 25-hour days of a DST change their true length', () => {
    const spring = budgetDay(at('2026-03-08T05:00:00.000Z'), 'America/New_York'); // local midnight, EST
    expect(spring).toEqual({ day: '2026-03-08', resetsAt: '2026-03-09T04:00:00.000Z' });
    expect(at(spring.resetsAt) - at('2026-03-08T05:00:00.000Z')).toBe(23 * HOUR);
    expect(budgetDay(at('2026-03-08T04:59:59.999Z'), 'America/New_York').day).toBe('2026-03-07');

    const fall = budgetDay(at('2026-11-01T04:00:00.000Z'), 'America/New_York'); // local midnight, EDT
    expect(fall).toEqual({ day: '2026-11-01', resetsAt: '2026-11-02T05:00:00.000Z' });
    expect(at(fall.resetsAt) - at('2026-11-01T04:00:00.000Z')).toBe(25 * HOUR);
    // 01:30 happens twice that night; both belong to the same day.
    expect(budgetDay(at('2026-11-01T05:30:00Z'), 'America/New_York').day).toBe('2026-11-01');
    expect(budgetDay(at('2026-11-01T06:30:00Z'), 'America/New_York').day).toBe('2026-11-01');
  });

  it('starts a day whose midnight DST skipped at the jump (America/Santiago, 2022-09-11 starts at 01:00)', () => {
    expect(budgetDay(at('2022-09-10T12:00:00Z'), 'America/Santiago')).toEqual({
      day: '2022-09-10',
      resetsAt: '2022-09-11T04:00:00.000Z',
    });
    expect(budgetDay(at('2022-09-11T03:59:59.999Z'), 'America/Santiago').day).toBe('2022-09-10');
    expect(budgetDay(at('2022-09-11T04:00:00.000Z'), 'America/Santiago')).toEqual({
      day: '2022-09-11',
      resetsAt: '2022-09-12T03:00:00.000Z',
    });
  });

  it('rejects an unknown time zone and a non-instant', () => {
    expect(() => createDayClock('Mars/Olympus')).toThrow(RangeError);
    expect(() => budgetDay(Number.NaN, 'UTC')).toThrow(RangeError);
  });
});

describe('day arithmetic', () => {
  it('shifts calendar days across months, years and leap days', () => {
    expect(shiftDay('2024-03-01', -1)).toBe('2024-02-29');
    expect(shiftDay('2026-12-31', 1)).toBe('2027-01-01');
    expect(shiftDay('2026-11-27', -8)).toBe('2026-11-19');
    expect(() => shiftDay('2026-13-01', 1)).toThrow(RangeError);
  });

  it('knows a real YYYY-MM-DD date', () => {
    expect(isDay('2024-02-29')).toBe(true);
    expect(isDay('2026-02-29')).toBe(false);
    expect(isDay('2026-1-01')).toBe(false);
    expect(isDay('2026-11-27T00:00')).toBe(false);
  });

  it('finds the first instant of a day in its zone', () => {
    const clock = createDayClock('Asia/Kolkata');
    expect(new Date(clock.startOf('2026-11-28')).toISOString()).toBe('2026-11-27T18:30:00.000Z');
    expect(new Date(createDayClock('America/Santiago').startOf('2022-09-11')).toISOString()).toBe(
      '2022-09-11T04:00:00.000Z',
    );
  });

  it("lists the days a settle may land on: the day made, the day after, and the settle's own", () => {
    expect(landingDays('2026-11-27', '2026-11-27')).toEqual(['2026-11-27']);
    expect(landingDays('2026-11-27', '2026-11-28')).toEqual(['2026-11-27', '2026-11-28']);
    expect(landingDays('2026-12-31', '2027-01-04')).toEqual(['2026-12-31', '2027-01-01', '2027-01-04']);
    // A settle whose clock is behind the reserve's lands on the day the reservation was made.
    expect(landingDays('2026-11-28', '2026-11-27')).toEqual(['2026-11-28']);
  });

  it('answers from the day it remembers exactly as a fresh clock would, across midnights and DST jumps', () => {
    const cases: [string, string][] = [
      ['America/New_York', '2026-03-08T00:00:00Z'], // spring forward
      ['Europe/London', '2026-10-25T00:00:00Z'], // fall back
      ['America/Santiago', '2022-09-10T12:00:00Z'], // a skipped midnight
      ['Asia/Kolkata', '2026-11-27T12:00:00Z'],
    ];
    for (const [zone, from] of cases) {
      const shared = dayClockOf(zone);
      const start = Date.parse(from);
      // Every 7 minutes over two days, forwards then backwards: each answer as a new clock's.
      const instants = Array.from({ length: 412 }, (_, i) => start + i * 7 * 60_000);
      for (const t of [...instants, ...instants.reverse()]) {
        expect(shared.at(t), `${zone} at ${new Date(t).toISOString()}`).toEqual(createDayClock(zone).at(t));
      }
    }
    expect(dayClockOf('Europe/London')).toBe(dayClockOf('Europe/London'));
  });
});
