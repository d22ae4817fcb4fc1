// When each device is polled: a fixed cadence per device (default 60 s) with the fleet spread across the
// interval so it never polls in lockstep, a cap on polls in flight, and a circuit breaker per device. One timer
// serves the whole fleet (a heap of due times), so 10,000 devices cost one timer, not 10,000.
import type { Clock } from '../clock';
import { type BreakerOptions, CircuitBreaker, DEFAULT_BREAKER } from './breaker';

/** 'standby': another collector of the HA group holds the device's lease; try again sooner than the interval so
 * a takeover is quick, without touching the breaker. */
export type PollOutcome = 'ok' | 'failed' | 'standby';

export interface SchedulerOptions {
  clock: Clock;
  intervalMs: number;
  maxConcurrent: number;
  breaker?: BreakerOptions;
  /** How soon a device in standby is tried again (default: a quarter of its interval). */
  standbyRetryMs?: number;
  /** Uniform in [0, 1); injected for deterministic tests. */
  random?: () => number;
  poll: (deviceId: string, context: { consecutiveFailures: number }) => Promise<PollOutcome>;
  /** A due poll skipped because the device's breaker is open. */
  onBreakerSkip?: (deviceId: string) => void;
  /** How late a poll started relative to its due time, in ms. */
  onStart?: (deviceId: string, lateMs: number) => void;
}

interface Entry {
  deviceId: string;
  due: number;
  intervalMs: number;
  breaker: CircuitBreaker;
  inFlight: boolean;
  removed: boolean;
}

export class PollScheduler {
  private readonly entries = new Map<string, Entry>();
  private heap: Entry[] = [];
  private readonly ready: Entry[] = [];
  private inFlight = 0;
  private cancelTimer: (() => void) | undefined;
  private running = false;
  private readonly active = new Set<Promise<void>>();
  private readonly random: () => number;

  constructor(private readonly opts: SchedulerOptions) {
    this.random = opts.random ?? Math.random;
  }

  get size(): number {
    return this.entries.size;
  }

  get polling(): number {
    return this.inFlight;
  }

  /** Adds a device; its first poll falls at a random point within one interval. */
  add(deviceId: string, intervalMs = this.opts.intervalMs): void {
    if (this.entries.has(deviceId)) return;
    const entry: Entry = {
      deviceId,
      due: this.opts.clock.now() + Math.floor(this.random() * intervalMs),
      intervalMs,
      breaker: new CircuitBreaker(this.opts.breaker ?? DEFAULT_BREAKER),
      inFlight: false,
      removed: false,
    };
    this.entries.set(deviceId, entry);
    this.push(entry);
    this.arm();
  }

  /** Stops polling a device; a poll in flight finishes but is not rescheduled. */
  remove(deviceId: string): void {
    const entry = this.entries.get(deviceId);
    if (!entry) return;
    entry.removed = true;
    this.entries.delete(deviceId);
    this.heap = this.heap.filter((e) => e !== entry);
    heapify(this.heap);
    const i = this.ready.indexOf(entry);
    if (i >= 0) this.ready.splice(i, 1);
    this.arm();
  }

  has(deviceId: string): boolean {
    return this.entries.has(deviceId);
  }

  breakerOf(deviceId: string): CircuitBreaker | undefined {
    return this.entries.get(deviceId)?.breaker;
  }

  start(): void {
    this.running = true;
    this.arm();
  }

  /** Stops scheduling and waits for the polls in flight to finish. */
  async stop(): Promise<void> {
    this.running = false;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    await Promise.allSettled([...this.active]);
  }

  private arm(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    const next = this.heap[0];
    if (!this.running || !next) return;
    const wait = next.due - this.opts.clock.now();
    this.cancelTimer = this.opts.clock.setTimer(() => this.tick(), wait);
  }

  private tick(): void {
    this.cancelTimer = undefined;
    const now = this.opts.clock.now();
    while (this.heap[0] && this.heap[0].due <= now) {
      const entry = this.pop()!;
      if (!entry.breaker.allows(now)) {
        this.opts.onBreakerSkip?.(entry.deviceId);
        this.reschedule(entry, now);
        continue;
      }
      this.ready.push(entry);
    }
    this.startReady();
    this.arm();
  }

  private startReady(): void {
    while (this.running && this.inFlight < this.opts.maxConcurrent && this.ready.length) {
      const entry = this.ready.shift()!;
      this.run(entry);
    }
  }

  private run(entry: Entry): void {
    const started = this.opts.clock.now();
    this.opts.onStart?.(entry.deviceId, Math.max(0, started - entry.due));
    entry.inFlight = true;
    this.inFlight++;
    const task = (async () => {
      let outcome: PollOutcome = 'failed';
      try {
        outcome = await this.opts.poll(entry.deviceId, {
          consecutiveFailures: entry.breaker.consecutiveFailures,
        });
      } catch {
        outcome = 'failed';
      }
      const now = this.opts.clock.now();
      if (outcome === 'ok') entry.breaker.recordSuccess();
      else if (outcome === 'failed') entry.breaker.recordFailure(now);
      entry.inFlight = false;
      this.inFlight--;
      if (!entry.removed && outcome === 'standby') {
        entry.due = now + (this.opts.standbyRetryMs ?? Math.max(1, Math.floor(entry.intervalMs / 4)));
        this.push(entry);
      } else if (!entry.removed) this.reschedule(entry, now);
      this.startReady();
      this.arm();
    })();
    this.active.add(task);
    void task.finally(() => this.active.delete(task));
  }

  /** Next due on the device's own cadence; polls missed while it was slow or skipped are not made up. */
  private reschedule(entry: Entry, now: number): void {
    let due = entry.due + entry.intervalMs;
    if (due <= now) due = entry.due + Math.ceil((now - entry.due + 1) / entry.intervalMs) * entry.intervalMs;
    entry.due = due;
    this.push(entry);
  }

  private push(entry: Entry): void {
    this.heap.push(entry);
    siftUp(this.heap, this.heap.length - 1);
  }

  private pop(): Entry | undefined {
    const top = this.heap[0];
    const last = this.heap.pop();
    if (top && last && last !== top) {
      this.heap[0] = last;
      siftDown(this.heap, 0);
    }
    return top;
  }
}

function siftUp(h: Entry[], i: number): void {
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (h[p]!.due <= h[i]!.due) break;
    [h[p], h[i]] = [h[i]!, h[p]!];
    i = p;
  }
}

function siftDown(h: Entry[], i: number): void {
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let m = i;
    if (l < h.length && h[l]!.due < h[m]!.due) m = l;
    if (r < h.length && h[r]!.due < h[m]!.due) m = r;
    if (m === i) return;
    [h[m], h[i]] = [h[i]!, h[m]!];
    i = m;
  }
}

function heapify(h: Entry[]): void {
  for (let i = (h.length >> 1) - 1; i >= 0; i--) siftDown(h, i);
}
