// When each device's configuration backup is due. The plan only says *whether* a backup is due; the collector
// takes it in the device's poll slot, right after a successful poll, on the same session: so a backup never runs
// beside that device's poll, counts against the scheduler's concurrency like a poll, and waits while the device
// is down or its breaker is open. Due are:
// - a device seen for the first time (at collector start, every device): at a random point within the startup
//   spread, so a fleet does not export all at once (the edge dedupes an unchanged config);
// - a config-change marker that moved: at once, i.e. in the slot of the poll that saw it (within a minute);
// - nightly: at a per-device point of the local window, stable per device id, spread over the window.
// A failed change backup is tried again a few times; a failed nightly one waits for the next night.
import { createHash } from 'node:crypto';
import type { ConfigSnapshotTrigger } from '@tod/contracts';
import type { Clock } from '../clock';

export interface BackupPlanOptions {
  clock: Clock;
  nightly: boolean;
  /** Minutes after local midnight; an end before the start wraps past midnight. */
  window: { startMin: number; endMin: number };
  /** First backup of a newly seen device at a random point in [now, now + this). */
  startupSpreadMs: number;
  /** Wait before retrying a failed change backup (default 5 minutes). */
  retryMs?: number;
  /** Attempts of one change backup before waiting for the next change or night (default 3). */
  maxAttempts?: number;
  /** Uniform in [0, 1); injected for deterministic tests. */
  random?: () => number;
}

type Window = { startMin: number; endMin: number };

interface Plan {
  pending?: { trigger: ConfigSnapshotTrigger; dueAt: number; attempts: number };
  nextNightly?: number;
  /** The tenant's window for this device (registry `backup.window`); absent = the collector's. */
  window?: Window;
}

export interface DueBackup {
  trigger: ConfigSnapshotTrigger;
}

const DAY_MS = 86_400_000;
/** How long after its window a missed nightly backup is still taken (the longest poll interval). */
const NIGHTLY_GRACE_MS = 3_600_000;

/** Fraction in [0, 1) stable for a device id: where in the window its nightly backup falls. */
export function windowFraction(deviceId: string): number {
  return createHash('sha256').update(deviceId).digest().readUInt32BE(0) / 2 ** 32;
}

/** The first nightly time for this device strictly after `now`, in the collector's local time. */
export function nextNightlyAt(
  now: number,
  deviceId: string,
  window: { startMin: number; endMin: number },
): number {
  const lengthMin = (window.endMin - window.startMin + 1440) % 1440 || 1440;
  const offsetMs = Math.floor(windowFraction(deviceId) * lengthMin * 60_000);
  const d = new Date(now);
  // Yesterday's window may still be open (a window past midnight); then today's, then tomorrow's.
  for (let day = -1; day <= 1; day++) {
    const at = new Date(d.getFullYear(), d.getMonth(), d.getDate() + day, 0, window.startMin, 0, offsetMs);
    if (at.getTime() > now) return at.getTime();
  }
  return now + DAY_MS;
}

export class BackupPlan {
  private readonly plans = new Map<string, Plan>();
  private readonly random: () => number;

  constructor(private readonly opts: BackupPlanOptions) {
    this.random = opts.random ?? Math.random;
  }

  private windowOf(plan: Plan): Window {
    return plan.window ?? this.opts.window;
  }

  /** A device seen for the first time: one backup within the startup spread, then nightly (in its tenant's
   * window when it has one). */
  add(deviceId: string, window?: Window): void {
    if (this.plans.has(deviceId)) return;
    const now = this.opts.clock.now();
    const w = window ?? this.opts.window;
    this.plans.set(deviceId, {
      pending: {
        trigger: 'change',
        dueAt: now + Math.floor(this.random() * this.opts.startupSpreadMs),
        attempts: 0,
      },
      ...(window ? { window } : {}),
      ...(this.opts.nightly ? { nextNightly: nextNightlyAt(now, deviceId, w) } : {}),
    });
  }

  /** The tenant changed its window (undefined: back to the collector's): the next night follows it. */
  setWindow(deviceId: string, window: Window | undefined): void {
    const plan = this.plans.get(deviceId);
    if (!plan) return;
    const same = (a?: Window, b?: Window) => a?.startMin === b?.startMin && a?.endMin === b?.endMin;
    if (same(plan.window, window)) return;
    if (window) plan.window = window;
    else delete plan.window;
    if (plan.nextNightly !== undefined)
      plan.nextNightly = nextNightlyAt(this.opts.clock.now(), deviceId, this.windowOf(plan));
  }

  remove(deviceId: string): void {
    this.plans.delete(deviceId);
  }

  /** The device's config-change marker moved: a backup now (an earlier pending one is brought forward). */
  changed(deviceId: string, trigger: ConfigSnapshotTrigger = 'change'): void {
    const plan = this.plans.get(deviceId);
    if (!plan) return;
    plan.pending = { trigger, dueAt: this.opts.clock.now(), attempts: 0 };
  }

  /** The backup due for this device now, if any (a pending change one before the nightly one). */
  due(deviceId: string): DueBackup | undefined {
    const plan = this.plans.get(deviceId);
    if (!plan) return undefined;
    const now = this.opts.clock.now();
    if (plan.pending && plan.pending.dueAt <= now) return { trigger: plan.pending.trigger };
    if (plan.nextNightly !== undefined && plan.nextNightly <= now) {
      // A device that was down through its whole window waits for the next night rather than exporting at noon;
      // the grace of one hour past the window covers the slot after a time at its very end (intervals ≤ 1 h).
      const { startMin, endMin } = this.windowOf(plan);
      const lengthMs = ((endMin - startMin + 1440) % 1440 || 1440) * 60_000;
      const windowEnd = plan.nextNightly - windowFraction(deviceId) * lengthMs + lengthMs;
      if (now <= windowEnd + NIGHTLY_GRACE_MS) return { trigger: 'nightly' };
      plan.nextNightly = nextNightlyAt(now, deviceId, this.windowOf(plan));
    }
    return undefined;
  }

  /** Records the result of the backup `due` returned. */
  finished(deviceId: string, trigger: ConfigSnapshotTrigger, ok: boolean): void {
    const plan = this.plans.get(deviceId);
    if (!plan) return;
    const now = this.opts.clock.now();
    // Any successful export is also tonight's (and a nightly one satisfies a pending change).
    if (ok || trigger === 'nightly') {
      if (plan.nextNightly !== undefined && (trigger === 'nightly' || plan.nextNightly <= now))
        plan.nextNightly = nextNightlyAt(now, deviceId, this.windowOf(plan));
    }
    if (ok) {
      plan.pending = undefined;
      return;
    }
    if (plan.pending && plan.pending.trigger === trigger && plan.pending.dueAt <= now) {
      plan.pending.attempts++;
      if (plan.pending.attempts >= (this.opts.maxAttempts ?? 3)) plan.pending = undefined;
      else plan.pending.dueAt = now + (this.opts.retryMs ?? 300_000);
    }
  }
}
