// Circuit breaker per device: after `threshold` consecutive failures the device is not polled until a backoff
// passes (starting at `baseMs`, doubling per failed trial up to `maxMs`); one success closes it again.
export interface BreakerOptions {
  threshold: number;
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BREAKER: BreakerOptions = { threshold: 5, baseMs: 30_000, maxMs: 900_000 };

export type BreakerState = 'closed' | 'open' | 'half_open';

export class CircuitBreaker {
  private failures = 0;
  private openUntil = 0;
  private backoffMs = 0;

  constructor(private readonly opts: BreakerOptions = DEFAULT_BREAKER) {}

  state(now: number): BreakerState {
    if (this.failures < this.opts.threshold) return 'closed';
    return now < this.openUntil ? 'open' : 'half_open';
  }

  /** Whether a poll may run now (closed, or half-open for one trial). */
  allows(now: number): boolean {
    return this.state(now) !== 'open';
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  /** When the breaker will let a trial through (0 when closed). */
  get retryAt(): number {
    return this.failures >= this.opts.threshold ? this.openUntil : 0;
  }

  recordSuccess(): void {
    this.failures = 0;
    this.backoffMs = 0;
    this.openUntil = 0;
  }

  recordFailure(now: number): void {
    this.failures++;
    if (this.failures < this.opts.threshold) return;
    this.backoffMs = this.backoffMs === 0 ? this.opts.baseMs : Math.min(this.opts.maxMs, this.backoffMs * 2);
    this.openUntil = now + this.backoffMs;
  }
}
