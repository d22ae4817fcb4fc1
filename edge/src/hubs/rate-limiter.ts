// RateLimiter Durable Object: a fixed-budget sliding window per key (e.g. `auth:<ip>`), so auth attempts are
// limited across every isolate of the edge, not per isolate. One object per key.
import { DurableObject } from 'cloudflare:workers';

export interface RateLimitDecision {
  allowed: boolean;
  remaining: number;
  retryAfterSeconds: number;
}

export class RateLimiter extends DurableObject {
  private hits: number[] = [];

  /** Records one attempt at `now` (ms) against `limit` per `windowMs`; refuses once the budget is spent. */
  async hit(limit: number, windowMs: number, now = Date.now()): Promise<RateLimitDecision> {
    this.hits = this.hits.filter((t) => t > now - windowMs);
    if (this.hits.length >= limit) {
      const oldest = this.hits[0] ?? now;
      return {
        allowed: false,
        remaining: 0,
        retryAfterSeconds: Math.max(1, Math.ceil((oldest + windowMs - now) / 1000)),
      };
    }
    this.hits.push(now);
    return { allowed: true, remaining: limit - this.hits.length, retryAfterSeconds: 0 };
  }
}
