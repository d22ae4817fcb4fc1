import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock';
import { type PollOutcome, PollScheduler } from './scheduler';

function seeded(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

function setup(opts: { devices: number; maxConcurrent?: number; outcome?: (id: string) => PollOutcome }) {
  const clock = new ManualClock(0);
  const polls: { id: string; at: number }[] = [];
  const skips: string[] = [];
  const lateness: number[] = [];
  const scheduler = new PollScheduler({
    clock,
    intervalMs: 60_000,
    maxConcurrent: opts.maxConcurrent ?? 1000,
    random: seeded(42),
    breaker: { threshold: 5, baseMs: 30_000, maxMs: 900_000 },
    poll: async (id) => {
      polls.push({ id, at: clock.now() });
      return opts.outcome?.(id) ?? 'ok';
    },
    onBreakerSkip: (id) => skips.push(id),
    onStart: (_id, late) => lateness.push(late),
  });
  for (let i = 0; i < opts.devices; i++) scheduler.add(`dev-${i}`);
  scheduler.start();
  return { clock, scheduler, polls, skips, lateness };
}

describe('poll scheduler', () => {
  it('polls every device once per interval, spread across it rather than in lockstep', async () => {
    const { clock, polls } = setup({ devices: 600 });
    await clock.advance(60_000);
    expect(new Set(polls.map((p) => p.id)).size).toBe(600);
    expect(polls).toHaveLength(600);
    // Spread: each 10 s slice of the first interval holds roughly a sixth of the fleet.
    const slices = [0, 1, 2, 3, 4, 5].map((s) => polls.filter((p) => Math.floor(p.at / 10_000) === s).length);
    for (const n of slices) expect(n).toBeGreaterThan(60);
    await clock.advance(120_000);
    expect(polls).toHaveLength(1800);
  });

  it('keeps each device on its own cadence', async () => {
    const { clock, polls } = setup({ devices: 3 });
    await clock.advance(300_000);
    for (const id of ['dev-0', 'dev-1', 'dev-2']) {
      const times = polls.filter((p) => p.id === id).map((p) => p.at);
      expect(times.length).toBe(5);
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBe(60_000);
    }
  });

  it('opens the breaker after five failures, skips polls while open, and tries again after the backoff', async () => {
    const { clock, polls, skips } = setup({ devices: 1, outcome: () => 'failed' });
    await clock.advance(5 * 60_000);
    expect(polls).toHaveLength(5);
    // Open for 30 s: the next due poll (60 s later) is past the backoff, so it is the half-open trial.
    await clock.advance(60_000);
    expect(polls).toHaveLength(6);
    // Failed trial: backoff 60 s, which ends exactly at the next due poll, another trial.
    await clock.advance(60_000);
    expect(polls).toHaveLength(7);
    expect(skips).toHaveLength(0);
    // Failed again: backoff 120 s, so one due poll is skipped before the next trial.
    await clock.advance(60_000);
    expect(skips).toHaveLength(1);
    expect(polls).toHaveLength(7);
    await clock.advance(60_000);
    expect(polls).toHaveLength(8);
  });

  it('never runs more polls at once than allowed, and reports how late queued polls started', async () => {
    const clock = new ManualClock(0);
    let running = 0;
    let peak = 0;
    const lateness: number[] = [];
    const release: (() => void)[] = [];
    const scheduler = new PollScheduler({
      clock,
      intervalMs: 60_000,
      maxConcurrent: 2,
      random: () => 0,
      poll: async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise<void>((r) => release.push(r));
        running--;
        return 'ok';
      },
      onStart: (_id, late) => lateness.push(late),
    });
    for (let i = 0; i < 5; i++) scheduler.add(`d${i}`);
    scheduler.start();
    await clock.advance(0);
    expect(running).toBe(2);
    await clock.advance(1500);
    release.shift()!();
    release.shift()!();
    await new Promise((r) => setImmediate(r));
    expect(running).toBe(2);
    expect(peak).toBe(2);
    expect(lateness).toEqual([0, 0, 1500, 1500]);
    while (release.length) release.shift()!();
    await scheduler.stop();
  });

  it('stops polling a removed device and finishes in-flight polls on stop', async () => {
    const { clock, scheduler, polls } = setup({ devices: 2 });
    await clock.advance(60_000);
    scheduler.remove('dev-0');
    await clock.advance(120_000);
    expect(polls.filter((p) => p.id === 'dev-0')).toHaveLength(1);
    expect(polls.filter((p) => p.id === 'dev-1')).toHaveLength(3);
    await scheduler.stop();
    expect(clock.pendingTimers).toBe(0);
  });

  it('retries a device in standby (its HA peer holds the lease) every quarter interval, without opening its breaker', async () => {
    let standby = true;
    const { clock, scheduler, polls } = setup({ devices: 1, outcome: () => (standby ? 'standby' : 'ok') });
    await clock.advance(60_000);
    const first = polls[0]!.at;
    await clock.advance(60_000 * 3);
    // Attempts every 15 s while the peer holds it; far more than the 5 failures that would open a breaker.
    expect(polls.length).toBeGreaterThanOrEqual(12);
    expect(polls.slice(1).map((p, i) => p.at - polls[i]!.at)).toEqual(polls.slice(1).map(() => 15_000));
    expect(scheduler.breakerOf('dev-0')!.consecutiveFailures).toBe(0);
    expect(first).toBeLessThan(60_000);
    // Once it holds the lease, the device is back on its interval.
    standby = false;
    const n = polls.length;
    await clock.advance(60_000 * 2);
    const since = polls.slice(n);
    expect(since.length).toBeGreaterThanOrEqual(2);
    expect(since[1]!.at - since[0]!.at).toBe(60_000);
  });
});
