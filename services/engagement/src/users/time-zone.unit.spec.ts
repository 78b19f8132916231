import { describe, expect, it } from 'vitest';
import { isTimeZone, localDay, localHour } from './time-zone.ts';

describe('time zones', () => {
  it('knows IANA names and refuses the rest', () => {
    expect(isTimeZone('Europe/Paris')).toBe(true);
    expect(isTimeZone('America/Los_Angeles')).toBe(true);
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
    expect(isTimeZone('')).toBe(false);
  });

  it('puts one instant on different days and hours either side of the date line', () => {
    const at = new Date('2026-03-01T23:30:00Z');
    expect(localDay(at, 'UTC')).toBe('2026-03-01');
    expect(localDay(at, 'Asia/Tokyo')).toBe('2026-03-02');
    expect(localDay(at, 'America/Los_Angeles')).toBe('2026-03-01');
    expect(localHour(at, 'Asia/Tokyo')).toBe(8);
    expect(localHour(at, 'UTC')).toBe(23);
  });
});
