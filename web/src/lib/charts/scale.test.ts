import { describe, expect, it } from 'vitest';
import { formatBps, formatDbm, formatDuration, formatTick, niceStep, timeTicks, valueAxis } from './scale';

describe('units', () => {
  it.each([
    [0, '0 bps'],
    [950, '950 bps'],
    [1_000, '1 kbps'],
    [1_234, '1.23 kbps'],
    [12_500_000, '12.5 Mbps'],
    [125_000_000, '125 Mbps'],
    [999_960, '1 Mbps'],
    [1_250_000_000, '1.25 Gbps'],
    [40e9, '40 Gbps'],
  ])('formats %d bits per second as %s', (v, text) => {
    expect(formatBps(v)).toBe(text);
  });

  it('shows a dash for missing values and rounds dBm', () => {
    expect(formatBps(null)).toBe('—');
    expect(formatBps(Number.NaN)).toBe('—');
    expect(formatDbm(-61.6)).toBe('-62 dBm');
    expect(formatDbm(undefined)).toBe('—');
  });

  it('formats uptimes by their two largest units', () => {
    expect(formatDuration(42)).toBe('42s');
    expect(formatDuration(312)).toBe('5m 12s');
    expect(formatDuration(5 * 3600 + 12 * 60)).toBe('5h 12m');
    expect(formatDuration(3 * 86400 + 4 * 3600 + 5)).toBe('3d 4h');
  });
});

describe('axes', () => {
  it('picks 1, 2 or 5 times a power of ten', () => {
    expect(niceStep(1000, 4)).toBe(500);
    expect(niceStep(7_300_000, 4)).toBe(2_000_000);
    expect(niceStep(90, 4)).toBe(50);
  });

  it('starts bits at zero and covers the largest value with round ticks', () => {
    const a = valueAxis([120_000, 2_300_000, 0], 'bps');
    expect(a.min).toBe(0);
    expect(a.max).toBeGreaterThanOrEqual(2_300_000);
    expect(a.ticks[0]).toBe(0);
    expect(a.ticks.at(-1)).toBe(a.max);
    expect(new Set(a.ticks.slice(1).map((t, i) => t - a.ticks[i]!)).size).toBe(1);
    expect(valueAxis([], 'bps')).toMatchObject({ min: 0, max: 1000 });
  });

  it('gives signal a band around the data, never above 0 dBm', () => {
    const a = valueAxis([-64, -52], 'dBm');
    expect(a.min).toBeLessThanOrEqual(-64);
    expect(a.max).toBeGreaterThanOrEqual(-52);
    expect(a.max).toBeLessThanOrEqual(0);
    expect(a.max - a.min).toBeGreaterThanOrEqual(20);
  });

  it('puts time ticks on round local times, about six of them', () => {
    const from = new Date(2026, 10, 23, 9, 7, 13).getTime();
    const hour = timeTicks(from, from + 3_600_000);
    expect(hour.step).toBe(10 * 60_000);
    expect(hour.ticks.map((t) => formatTick(t, hour.step))).toEqual([
      '09:10',
      '09:20',
      '09:30',
      '09:40',
      '09:50',
      '10:00',
    ]);
    const week = timeTicks(from, from + 7 * 86_400_000);
    expect(week.step).toBe(2 * 86_400_000);
    expect(new Date(week.ticks[0]!).getHours()).toBe(0);
    expect(formatTick(week.ticks[0]!, week.step)).toMatch(/^\d{1,2} Nov$/);
    for (const span of [6, 24, 30 * 24, 90 * 24]) {
      const r = timeTicks(from, from + span * 3_600_000);
      expect(r.ticks.length).toBeGreaterThanOrEqual(2);
      expect(r.ticks.length).toBeLessThanOrEqual(7);
    }
  });
});
