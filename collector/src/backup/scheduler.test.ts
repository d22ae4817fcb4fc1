import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock';
import { BackupPlan, nextNightlyAt, windowFraction } from './scheduler';

const local = (h: number, m = 0, day = 10) => new Date(2026, 0, day, h, m, 0, 0).getTime();
const WINDOW = { startMin: 2 * 60, endMin: 5 * 60 };

describe('nextNightlyAt', () => {
  it('falls in the local window at a stable per-device point, spread across devices', () => {
    const times = Array.from({ length: 200 }, (_, i) => nextNightlyAt(local(12), `device-${i}`, WINDOW));
    for (const t of times) {
      expect(t).toBeGreaterThanOrEqual(local(2, 0, 11));
      expect(t).toBeLessThan(local(5, 0, 11));
    }
    expect(nextNightlyAt(local(12), 'device-1', WINDOW)).toBe(times[1]);
    // Spread: every half hour of the window holds some devices.
    const slots = new Set(times.map((t) => Math.floor((t - local(2, 0, 11)) / 1_800_000)));
    expect(slots.size).toBe(6);
  });

  it('takes tonight before the window and tomorrow after it, also for a window past midnight', () => {
    const id = 'device-x';
    const offset = Math.floor(windowFraction(id) * 180 * 60_000);
    expect(nextNightlyAt(local(1), id, WINDOW)).toBe(local(2) + offset);
    expect(nextNightlyAt(local(6), id, WINDOW)).toBe(local(2, 0, 11) + offset);
    const late = { startMin: 23 * 60, endMin: 60 };
    const t = nextNightlyAt(local(12), id, late);
    expect(t).toBeGreaterThanOrEqual(local(23));
    expect(t).toBeLessThan(local(1, 0, 11));
  });
});

describe('BackupPlan', () => {
  const plan = (clock: ManualClock, nightly = true) =>
    new BackupPlan({ clock, nightly, window: WINDOW, startupSpreadMs: 600_000, random: () => 0.5 });

  it('takes one backup at first sight within the spread, then none until a change or the night', async () => {
    const clock = new ManualClock(local(12));
    const p = plan(clock);
    p.add('d');
    expect(p.due('d')).toBeUndefined();
    await clock.advance(300_000);
    expect(p.due('d')).toEqual({ trigger: 'change' });
    p.finished('d', 'change', true);
    await clock.advance(3_600_000);
    expect(p.due('d')).toBeUndefined();
    p.changed('d');
    expect(p.due('d')).toEqual({ trigger: 'change' });
    p.finished('d', 'change', true);
    expect(p.due('d')).toBeUndefined();
    await clock.advance(nextNightlyAt(clock.now(), 'd', WINDOW) - clock.now());
    expect(p.due('d')).toEqual({ trigger: 'nightly' });
    p.finished('d', 'nightly', false);
    // A failed nightly backup waits for the next night.
    expect(p.due('d')).toBeUndefined();
    await clock.advance(20 * 3_600_000);
    expect(p.due('d')).toBeUndefined();
    await clock.advance(4 * 3_600_000);
    expect(p.due('d')).toEqual({ trigger: 'nightly' });
  });

  it('takes the nightly backup in the tenant’s window from the registry, and follows a change of it', async () => {
    const clock = new ManualClock(local(12));
    const p = plan(clock);
    const tenant = { startMin: 22 * 60, endMin: 23 * 60 };
    p.add('d', tenant);
    await clock.advance(600_000);
    p.finished('d', 'change', true);
    const at = nextNightlyAt(clock.now(), 'd', tenant);
    expect(new Date(at).getHours()).toBe(22);
    await clock.advance(at - clock.now() - 1);
    expect(p.due('d')).toBeUndefined();
    await clock.advance(1);
    expect(p.due('d')).toEqual({ trigger: 'nightly' });
    p.finished('d', 'nightly', true);
    // Back to the collector's window (02:00-05:00 here): the next backup is in it, not at 22:00.
    p.setWindow('d', undefined);
    const next = nextNightlyAt(clock.now(), 'd', WINDOW);
    await clock.advance(next - clock.now() - 1);
    expect(p.due('d')).toBeUndefined();
    await clock.advance(1);
    expect(p.due('d')).toEqual({ trigger: 'nightly' });
  });

  it('retries a failed change backup a few times, then gives up until the next change', async () => {
    const clock = new ManualClock(local(12));
    const p = plan(clock, false);
    p.add('d');
    p.changed('d');
    for (let i = 0; i < 3; i++) {
      expect(p.due('d')).toEqual({ trigger: 'change' });
      p.finished('d', 'change', false);
      expect(p.due('d')).toBeUndefined();
      await clock.advance(300_000);
    }
    expect(p.due('d')).toBeUndefined();
    await clock.advance(2 * 86_400_000);
    expect(p.due('d')).toBeUndefined();
  });

  it('skips a night the device missed entirely instead of exporting by day', async () => {
    const clock = new ManualClock(local(12));
    const p = plan(clock);
    p.add('d');
    p.finished('d', 'change', true);
    await clock.advance(local(9, 0, 11) - clock.now());
    expect(p.due('d')).toBeUndefined();
    await clock.advance(local(4, 59, 12) - clock.now());
    expect(p.due('d')).toEqual({ trigger: 'nightly' });
  });
});
